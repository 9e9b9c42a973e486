/** Gateway resources 6.3.1-6.3.16, 6.3.28-29, 6.3.38-40 and 6.3.91. */
import { EV, fmtTime } from '../gateway';
import { PARAMETER_MAP, STORABLE } from '../quantities';
import { DES, G13Error, SUCCESS, applyInOrder, bodyObj, fail, isInt, ok, type Ctx, type Obj, type Route } from '../reply';
import { RESET_PASSWORD } from './users';
import { execute } from './execute';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const EQ_BAUD = [1200, 2400, 9600, 19200, 38400, 57600, 115200, 125000, 230400, 460800, 500000];
/** Ranges of POST /configuration/mbus-* (6.3.7); the GET defaults lie outside some of them (digest 4.1). */
const MBUS_RANGES: Record<string, [number, number]> = {
  ack: [200, 2000], delay_after_telegram: [50, 60000], delay_before_requd2: [50, 1000], response_timeout: [300, 15000],
  response_timeout_base: [100, 10000], meter_contact: [10, 25000], get_request: [10, 75000],
};
/** "YYYY-MM-DDTHH:MM:SS" (also "YYYY:MM:DD..." as the manual's text writes it; digest 3.9). */
export function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{4})[-:](\d{2})[-:](\d{2})[T ](\d{2}):(\d{2}):(\d{2})$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(t) || new Date(t).getUTCDate() !== +m[3] ? undefined : t;
}

/** Builds the in-order items of a flat multi-field POST, each checked by `check`. */
function fields(b: Obj, check: (k: string, v: unknown) => boolean, apply: (k: string, v: unknown) => void): [string, () => void][] {
  return Object.entries(b).map(([k, v]) => [k, () => { if (!check(k, v)) throw new G13Error(400, DES.missing(k)); apply(k, v); }]);
}

function postIp(ctx: Ctx) {
  const b = bodyObj(ctx);
  if (!('ip' in b)) fail(400, DES.missing('ip'));
  const ip = ctx.gw.config.ip as Record<string, unknown>;
  const r = applyInOrder(fields(b, (k, v) => (k === 'dhcp' || k === 'dns' ? typeof v === 'boolean' : ['ip', 'gateway', 'subnet', 'pdns', 'sdns'].includes(k) && typeof v === 'string' && IPV4.test(v)),
    (k, v) => { ip[k] = v; }));
  ctx.gw.log(EV.GW_IP_ADDRESS_CHANGED);
  return r;
}

function postEqbus(ctx: Ctx) {
  const b = bodyObj(ctx);
  if (!('baudrate' in b)) fail(400, DES.missing('baudrate'));
  const eq = ctx.gw.config.eqbus as Record<string, number>;
  return applyInOrder(fields(b, (k, v) => (k === 'baudrate' ? EQ_BAUD.includes(v as number) : k === 'interoctettimeout' && isInt(v) && v >= 20 && v <= 6000),
    (k, v) => { eq[k] = v as number; }));
}

function postMbus(which: 'mbus-wired' | 'mbus-ir') {
  return (ctx: Ctx) => {
    const b = bodyObj(ctx);
    const conf = ctx.gw.config[which] as Record<string, number>;
    // !! mbus-ir documents "delay_before_reqd2" while GET spells "requd2" (digest 3.1 #8): accept both.
    const norm = (k: string) => (k === 'delay_before_reqd2' ? 'delay_before_requd2' : k);
    if (Object.keys(b).length === 0) fail(400, DES.missing('ack'));
    return applyInOrder(fields(b, (k, v) => { const r = MBUS_RANGES[norm(k)]; return !!r && isInt(v) && v >= r[0] && v <= r[1]; },
      (k, v) => { conf[norm(k)] = v as number; }));
  };
}

function postGateway(ctx: Ctx) {
  const b = bodyObj(ctx);
  // serial String 17, yet the manual's own example serial has 18 characters: not length-checked (it is ignored).
  const lim: Record<string, number> = { serial: 64, alias: 21, location: 51 };
  const info = ctx.gw.info as Record<string, string>;
  if (!['serial', 'alias', 'location'].some((k) => k in b)) fail(400, DES.missing('datetime tag')); // the manual's copy-paste des
  const r = applyInOrder(fields(b, (k, v) => k in lim && typeof v === 'string' && v.length <= lim[k], (k, v) => {
    if (k !== 'serial') info[k] = v as string; // the serial is the device's own: accepted, not changed
  }));
  ctx.gw.log(EV.GW_ALIAS_CHANGED);
  return r;
}

function postDatetime(ctx: Ctx) {
  const b = bodyObj(ctx);
  const t = parseTime(b.datetime);
  if (t === undefined) fail(400, DES.missing('datetime tag'));
  ctx.gw.clockOffset = t! - ctx.gw.clock();
  ctx.gw.clockSet = true;
  ctx.gw.log(EV.GW_SETTIME);
  return SUCCESS;
}

function deleteEvents(ctx: Ctx) {
  ctx.gw.resetEvents();
  ctx.gw.log(EV.GW_EVENTS_RESET);
  return SUCCESS;
}

function reboot(ctx: Ctx) {
  if (ctx.gw.rebootFails) fail(500, DES.REBOOT_FAILED);
  ctx.gw.log(EV.GW_REBOOT);
  ctx.gw.log(EV.GW_STARTED);
  for (const u of ctx.gw.users) u.session = false;
  return ok({ status: 'Rebooting...' });
}

function login(ctx: Ctx) {
  const u = ctx.user;
  const b = ctx.body;
  if (b !== undefined) {
    const o = bodyObj(ctx);
    if (typeof o.name !== 'string' || typeof o.oldkey !== 'string' || typeof o.key !== 'string') fail(400, DES.missing('name and key tag'));
    const target = ctx.gw.findUser(o.name as string);
    if (!target || (target !== u && !u.admin)) fail(403, DES.FORBIDDEN);
    if (target!.password !== o.oldkey || (o.key as string).length === 0 || (o.key as string).length > 32) fail(400, DES.missing('name and key tag'));
    target!.password = o.key as string;
    target!.mustChangePassword = false;
    if (target === u) u.session = true;
    return { status: 200 };
  }
  if (u.mustChangePassword) throw RESET_PASSWORD;
  u.session = true;
  return { status: 200 };
}

function permitted(op: 'add' | 'remove') {
  return (ctx: Ctx) => {
    const b = bodyObj(ctx);
    const list = b.meters;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length <= 17)) fail(400, DES.PARSE);
    const gw = ctx.gw;
    if (op === 'add') {
      for (const s of list as string[]) if (!gw.permitted.includes(s)) gw.permitted.push(s);
      if (gw.permitted.length > 25) { gw.permitted.length = 25; fail(400, DES.INVALID); } // allow-list max 25
    } else {
      gw.permitted = gw.permitted.filter((s) => !(list as string[]).includes(s));
    }
    return SUCCESS;
  };
}

function lasterror(ctx: Ctx) {
  const id = Number(ctx.params.id);
  const des = Number.isInteger(id) ? ctx.gw.lastError(id) : undefined;
  return ok({ des: des ?? '' });
}

export const routes: Route[] = [
  { method: 'GET', path: '/about', handler: (c) => ok(c.gw.about) },
  { method: 'POST', path: '/login', handler: login },
  { method: 'POST', path: '/logout', handler: (c) => { c.user.session = false; return { status: 200 }; } },
  { method: 'GET', path: '/configuration', handler: (c) => ok(c.gw.config) },
  { method: 'POST', path: '/configuration/ip', admin: true, handler: postIp },
  { method: 'POST', path: '/configuration/eqbus', admin: true, handler: postEqbus },
  { method: 'POST', path: '/configuration/mbus-wired', admin: true, handler: postMbus('mbus-wired') },
  { method: 'POST', path: '/configuration/mbus-ir', admin: true, handler: postMbus('mbus-ir') },
  { method: 'GET', path: '/gateway', handler: (c) => ok(c.gw.info) },
  { method: 'POST', path: '/gateway', admin: true, handler: postGateway },
  { method: 'GET', path: '/gateway/datetime', handler: (c) => ok({ datetime: fmtTime(c.gw.now()), status: c.gw.clockSet ? 'set' : 'not set' }) },
  { method: 'POST', path: '/gateway/datetime', admin: true, handler: postDatetime },
  { method: 'GET', path: '/gateway/events', handler: (c) => ok({ events: c.gw.events }) },
  { method: 'DELETE', path: '/gateway/events', admin: true, handler: deleteEvents },
  { method: 'POST', path: '/gateway/reboot', admin: true, handler: reboot },
  { method: 'POST', path: '/gateway/execute', handler: execute },
  { method: 'GET', path: '/parametermapping', handler: () => ok({ map: PARAMETER_MAP }) },
  { method: 'GET', path: '/storablequantities', handler: () => ok(STORABLE) },
  { method: 'GET', path: '/permittedmeters', handler: (c) => ok({ meters: c.gw.permitted }) },
  { method: 'PUT', path: '/permittedmeters', admin: true, handler: permitted('add') },
  { method: 'DELETE', path: '/permittedmeters', admin: true, handler: permitted('remove') },
  { method: 'GET', path: '/lasterror/:id', handler: lasterror },
];
