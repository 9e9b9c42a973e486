/** Firmware: upload (stage 1), gateway update (stage 2), meter update jobs and their status (6.3.24-27). */
import { EV } from '../gateway';
import { DES, bodyObj, fail, ok, type Ctx, type Reply, type Route } from '../reply';

/** Firmware replies are {"status":"success"} as text/html (6.3.25-27). */
const HTML_SUCCESS = (extra: Record<string, string> = {}): Reply => ({
  status: 200, text: '{"status":"success"}', contentType: 'text/html;charset=utf-8', headers: { Connection: 'Keep-Alive', ...extra },
});

function upload(ctx: Ctx) {
  // multipart/form-data with a part name="image"; only one image (meter or gateway) is stored.
  const text = ctx.raw.toString('latin1');
  if (!ctx.contentType.includes('multipart/form-data') || !/name="image"/.test(text)) {
    ctx.gw.log(EV.GW_LD_FW_UPLOAD_FAIL, 2);
    fail(400, DES.PARSE);
  }
  const m = /filename="([^"]*)"/.exec(text);
  ctx.gw.firmware.image = { size: ctx.raw.length, kind: m && /^g/i.test(m[1]) ? 'gateway' : 'meter' };
  ctx.gw.log(EV.GW_LD_FW_UPLOAD_COMPLETE);
  return HTML_SUCCESS();
}

function updateGateway(ctx: Ctx) {
  if (!ctx.gw.firmware.image) fail(400, DES.INVALID);
  ctx.gw.log(EV.GW_FW_UPGRADE_START);
  ctx.gw.log(EV.GW_FW_UPGRADE_COMPLETE);
  return HTML_SUCCESS();
}

function updateMeters(ctx: Ctx) {
  const gw = ctx.gw;
  const list = bodyObj(ctx).meters;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) fail(400, DES.PARSE);
  if ((list as string[]).length > 10) fail(400, DES.INVALID); // at most 10 meters per job
  if (gw.firmware.complete === 1) fail(400, DES.INVALID); // one task at a time
  if (!gw.firmware.image) fail(400, DES.INVALID);
  for (const s of list as string[]) if (gw.accessOf(ctx.user, s) !== 'configure') fail(403, DES.FORBIDDEN);
  gw.firmware.devices = (list as string[]).map((serial) => ({ serial, status: 'pending' }));
  gw.firmware.complete = 1;
  gw.log(EV.LD_FW_UPGRADE_START);
  gw.firmware.timer = setTimeout(() => {
    for (const d of gw.firmware.devices) {
      const m = gw.meter(d.serial);
      d.status = m && m.registered && !m.spec.offline ? 'success' : 'failed';
      gw.log(d.status === 'success' ? EV.LD_FW_UPGRADE_COMPLETE : 22, d.status === 'success' ? 8 : 2);
    }
    gw.firmware.complete = 2;
    gw.firmware.timer = null;
  }, gw.scanMs);
  return HTML_SUCCESS({ 'X-Frame-Options': 'sameorigin', 'X-Xss-Protection': '1; mode=block' });
}

export const routes: Route[] = [
  { method: 'POST', path: '/firmware', admin: true, handler: upload },
  { method: 'PUT', path: '/firmware', admin: true, handler: updateGateway },
  { method: 'PUT', path: '/meters/firmware', handler: updateMeters },
  { method: 'GET', path: '/meters/firmwareupdatestatus', handler: (c) => ok({ devices: c.gw.firmware.devices, firmwareupdatecomplete: c.gw.firmware.complete }) },
];
