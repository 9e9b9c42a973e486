/** Meter list, registration and scanning (6.3.31-6.3.37). */
import { EV } from '../gateway';
import type { SimMeter } from '../meter';
import { DES, SUCCESS, bodyObj, fail, isInt, isObj, ok, type Ctx, type Obj, type Route } from '../reply';

function listMeters(ctx: Ctx) {
  const gw = ctx.gw;
  const groups = new Map<string, SimMeter[]>();
  for (const m of gw.registered()) {
    if (gw.accessOf(ctx.user, m.spec.serial) === 'none') continue;
    const g = groups.get(m.location) ?? [];
    g.push(m);
    groups.set(m.location, g);
  }
  return ok({
    alias: gw.info.alias, location: gw.info.location, serial: gw.info.serial,
    // "serial" of a location is its optional main meter (sub-metering); " " = none, as in the manual.
    locations: [...groups].map(([location, ms]) => ({
      location, serial: ' ',
      // protocol and address are strings in the manual's examples (documented Int): strings here.
      meters: ms.map((m) => ({ alias: m.alias, serial: m.spec.serial, protocol: String(m.spec.protocol), address: String(m.spec.address), status: m.spec.offline ? -1 : 1 })),
    })),
  });
}

function fieldsOf(ctx: Ctx): { alias?: string; location?: string; serial?: string } {
  const b = bodyObj(ctx);
  const s = (k: string, max: number) => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > max) fail(400, DES.PARSE);
    return v as string;
  };
  return { alias: s('alias', 21), location: s('location', 51), serial: s('serial', 17) };
}

function updateMeter(ctx: Ctx) {
  const f = fieldsOf(ctx);
  if (f.alias !== undefined) ctx.meter.alias = f.alias;
  if (f.location !== undefined) ctx.meter.location = f.location;
  return SUCCESS;
}

function register(ctx: Ctx) {
  const f = fieldsOf(ctx);
  const m = f.serial ? ctx.gw.meter(f.serial) : undefined;
  const scanned = ctx.gw.scan.result.some((r) => r.serial === f.serial);
  if (!m || m.registered || !scanned) fail(400, DES.INVALID);
  m!.registered = true;
  if (f.alias !== undefined) m!.alias = f.alias;
  if (f.location !== undefined) m!.location = f.location;
  ctx.gw.scan.result = ctx.gw.scan.result.filter((r) => r.serial !== f.serial);
  ctx.gw.log(EV.GW_DEVICE_ADDED);
  return SUCCESS;
}

function deregister(ctx: Ctx) {
  // !! The manual's example request line says "DELETE /meters" with the serial in the body (digest 3.4 #34):
  // both forms are served; the path serial wins when both are given.
  const body = ctx.body === undefined ? {} : fieldsOf(ctx);
  const serial = ctx.params.serial ?? body.serial;
  const m = serial ? ctx.gw.meter(serial) : undefined;
  if (!m || !m.registered) fail(404, DES.NOT_FOUND);
  m!.registered = false;
  ctx.gw.log(EV.GW_DEVICE_DELETED);
  return SUCCESS;
}

/** Counts explicitly addressed devices of one bus; undefined = invalid. */
function busDevices(v: unknown, primaryKeys: boolean): number | undefined {
  if (!isObj(v)) return undefined;
  if (Array.isArray(v.devices)) return v.devices.length <= 10 && v.devices.every((a) => isInt(a) && a >= 0 && a <= 250) ? v.devices.length : undefined;
  if (v.start !== undefined || v.end !== undefined) {
    return isInt(v.start) && isInt(v.end) && v.start <= v.end && v.start >= 0 && v.end <= 250 ? v.end - v.start + 1 : undefined;
  }
  if (isObj(v.secondary) || (primaryKeys && isObj(v.primary))) return 0;
  return undefined;
}

function inBus(v: Obj, address: number): boolean {
  if (Array.isArray(v.devices)) return v.devices.includes(address);
  if (isInt(v.start) && isInt(v.end)) return address >= v.start && address <= v.end;
  return true; // primary {} / secondary {}: finds all slaves
}

function startScan(ctx: Ctx) {
  const b = bodyObj(ctx);
  const gw = ctx.gw;
  const token = Number(ctx.params.token);
  if (!Number.isInteger(token) || (b.token !== undefined && b.token !== token)) fail(400, DES.PARSE);
  const buses: [string, 1 | 2 | 3 | 4][] = [['mbus-wired', 1], ['mbus-ir', 2], ['eqbus', 3]];
  for (const [key] of buses) {
    if (b[key] === undefined) continue;
    if (busDevices(b[key], key === 'mbus-ir') === undefined) fail(400, DES.PARSE);
    if (key !== 'eqbus' && typeof (b[key] as Obj).baudrate !== 'number') fail(400, DES.missing('baudrate'));
  }
  if (b.zigbee !== undefined) { if (!isInt(b.zigbee) || b.zigbee < 0 || b.zigbee > 32) fail(400, DES.PARSE) }
  // !! "At most 32 devices per request", yet the manual's own example scans EQ bus 17-49 (33 addresses)
  // plus M-Bus devices: the simulator reads the limit as at most 32 devices found (result capped).
  if (gw.scan.running) fail(400, DES.INVALID); // one scan at a time
  const found = gw.meters.filter((m) => !m.registered && (() => {
    const p = m.spec.protocol;
    if (p === 4) return b.zigbee !== undefined && gw.permitted.includes(m.spec.serial);
    const key = buses.find(([, q]) => q === p)![0];
    return isObj(b[key]) && inBus(b[key] as Obj, m.spec.address);
  })());
  gw.scan = { token, running: true, result: [], timer: null };
  gw.scan.timer = setTimeout(() => {
    gw.scan.running = false;
    gw.scan.timer = null;
    gw.scan.result = found.slice(0, 32).map((m) => ({ token, serial: m.spec.serial, protocol: String(m.spec.protocol), address: String(m.spec.address) }));
  }, gw.scanMs);
  return SUCCESS;
}

function scanned(ctx: Ctx) {
  const s = ctx.gw.scan;
  // !! scancomplete: documented 1 = complete, 2 = in progress, the example shows 0 (digest 3.4 #35):
  // 0 = no scan since start, 2 while running, 1 when done.
  return ok({ scanresult: s.running ? [] : s.result, scancomplete: s.running ? 2 : s.token ? 1 : 0 });
}

function deleteScanned(ctx: Ctx) {
  const gw = ctx.gw;
  const list = ctx.body === undefined ? undefined : bodyObj(ctx).deletescanned;
  if (list === undefined) {
    // An empty body deletes all.
    const all = gw.scan.result.map((r) => ({ serial: r.serial, status: 1 }));
    gw.scan.result = [];
    return ok({ deletescanned: all });
  }
  if (!Array.isArray(list) || list.length > 15 || !list.every((x) => isObj(x) && typeof x.serial === 'string')) fail(400, DES.PARSE);
  const out = (list as { serial: string }[]).map(({ serial }) => {
    const had = gw.scan.result.some((r) => r.serial === serial);
    gw.scan.result = gw.scan.result.filter((r) => r.serial !== serial);
    return { serial, status: had ? 1 : -1 };
  });
  return ok({ deletescanned: out });
}

export const routes: Route[] = [
  { method: 'GET', path: '/meters', handler: listMeters },
  { method: 'PUT', path: '/meters', admin: true, handler: register },
  { method: 'DELETE', path: '/meters', admin: true, handler: deregister },
  { method: 'GET', path: '/meters/scanned', handler: scanned },
  { method: 'POST', path: '/meters/scanned/:token', admin: true, handler: startScan },
  { method: 'DELETE', path: '/meters/scanned', admin: true, handler: deleteScanned },
  { method: 'POST', path: '/meters/:serial', meter: 'configure', handler: updateMeter },
  { method: 'DELETE', path: '/meters/:serial', admin: true, handler: deregister },
];
