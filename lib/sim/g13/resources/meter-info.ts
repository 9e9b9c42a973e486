/** Per-meter information and settings (6.3.30, 6.3.41-6.3.51). */
import { fmtTime } from '../gateway';
import { MBUS_MEDIUM } from '../meters-data';
import { associationBits } from '../quantities';
import { DES, G13Error, SUCCESS, applyInOrder, bodyObj, fail, isInt, isObj, num, ok, type Ctx, type Route } from '../reply';
import { ACCESS_TEXT } from './users';
import { parseTime } from './system';

/** Resources a water meter (M-Bus, no ABB COSEM objects) cannot answer. */
export function electricity(ctx: Ctx): void {
  if (ctx.meter.water) fail(500, DES.COSEM);
}

function datetime(ctx: Ctx) {
  electricity(ctx);
  const m = ctx.meter;
  const t = ctx.now;
  const d = new Date(t);
  const month = d.getUTCMonth() + 1;
  return ok({
    datetime: fmtTime(t), dayofweek: ((d.getUTCDay() + 6) % 7) + 1,
    dst: m.dst.enable && month > m.dst.start.month && month < m.dst.end.month ? 1 : 0,
    dstenable: m.dst.enable, dstend: m.dst.end, dststart: m.dst.start, status: 'set',
  });
}

const dstRule = (v: unknown) => isObj(v) && ['month', 'day', 'week', 'hour'].every((k) => isInt(v[k]))
  && (v.month as number) >= 1 && (v.month as number) <= 12 && (v.hour as number) >= 0 && (v.hour as number) <= 23;

function setDatetime(ctx: Ctx) {
  electricity(ctx);
  const b = bodyObj(ctx);
  const t = parseTime(b.datetime);
  if (t === undefined) fail(400, DES.missing('datetime tag'));
  // Allowed: datetime alone; with dstenable false (start/end ignored); or all four fields.
  if (b.dstenable === true && (!dstRule(b.dststart) || !dstRule(b.dstend))) fail(400, DES.missing('dststart and dstend'));
  if (b.dstenable !== undefined && typeof b.dstenable !== 'boolean') fail(400, DES.missing('dstenable'));
  const m = ctx.meter;
  m.clockOffset = t! - ctx.gw.clock();
  if (b.dstenable === false) m.dst.enable = false;
  if (b.dstenable === true) m.dst = { enable: true, start: b.dststart as typeof m.dst.start, end: b.dstend as typeof m.dst.end };
  return SUCCESS;
}

function info(ctx: Ctx) {
  const m = ctx.meter;
  return ok({
    manufacturing: { serial: String(m.numericSerial), label: m.label, firmwareversion: 'A1.2.0.0' },
    // Documented Int, strings in the examples: strings as in the examples.
    ratio: { ctdenum: String(m.ratio.ctdenum), ctnum: String(m.ratio.ctnum), vtdenum: String(m.ratio.vtdenum), vtnum: String(m.ratio.vtnum) },
    conversionfactor: { co2: [m.conversion.co2, 'kg/kWh'], currency: [m.conversion.currency, 'curr/kWh'] },
    power: { powerfailcounter: '4', poweroutagetime: '0' },
  });
}

function setConversion(ctx: Ctx) {
  electricity(ctx);
  const cf = bodyObj(ctx).conversionfactor;
  if (!isObj(cf) || (cf.co2 === undefined && cf.currency === undefined)) fail(400, DES.missing('conversionfactor'));
  const m = ctx.meter;
  // In order, stopping at the first failure (the manual's own example, 6.1): CO2 < 9.999, currency < 999999.000.
  return applyInOrder(Object.entries(cf as object).map(([k, v]) => [k, () => {
    const n = num(v);
    if (k === 'co2' && n !== undefined && n >= 0 && n < 9.999) m.conversion.co2 = n;
    else if (k === 'currency' && n !== undefined && n >= 0 && n < 999999) m.conversion.currency = n;
    else throw new G13Error(400, DES.missing(k));
  }]));
}

function setTransformer(ctx: Ctx) {
  electricity(ctx);
  const b = bodyObj(ctx);
  const r = ctx.meter.ratio as Record<string, number>;
  if (!['ctnum', 'ctdenum', 'vtnum', 'vtdenum'].some((k) => k in b)) fail(400, DES.missing('ctnum'));
  return applyInOrder(Object.entries(b).map(([k, v]) => [k, () => {
    const n = num(v); // Int per the text, strings in the example: both accepted
    if (!(k in r) || n === undefined || !Number.isInteger(n) || n < 1 || n > 999999) throw new G13Error(400, DES.missing(k));
    r[k] = n;
  }]));
}

function mbusinfo(ctx: Ctx) {
  const m = ctx.meter;
  return ok({
    manufacturer: 'ABB', devicetype: MBUS_MEDIUM[m.spec.kind ?? 'electricity'], addressingmode: m.spec.protocol === 3 ? 0xff : m.spec.address,
    version: 32, id: m.spec.mbusId ?? m.numericSerial,
  });
}

function statusflags(ctx: Ctx) {
  electricity(ctx);
  const m = ctx.meter;
  const warnings: string[] = [];
  if (m.phases === 1) warnings.push('U2 Missing', 'U3 Missing');
  const info = m.alarms.filter((a) => a.quantity !== undefined && a.id === 1).map((a) => `Alarm${a.id} Active`);
  return ok({ errors: [], warnings, informationflags: info });
}

function meterEvents(ctx: Ctx) {
  electricity(ctx);
  const until = parseTime(ctx.params.datetime);
  if (until === undefined) fail(400, DES.INVALID);
  const count = ctx.params.count === undefined ? 100 : Number(ctx.params.count);
  if (!Number.isInteger(count) || count < 1) fail(400, DES.INVALID);
  const n = Math.min(100, count);
  // A power failure every 10 days (system), a phase-neutral warning weekly (quality), alarm 1 daily (event).
  const series = (period: number, logid: number, category: number, duration: number) => {
    const out = [];
    for (let t = Math.floor(until! / period) * period; t > until! - period * n && out.length < n; t -= period) {
      out.push({ datetime: fmtTime(t), duration, category, logid });
    }
    return out;
  };
  const day = 86400000;
  return ok({ system: series(10 * day, 2055, 8, 120), quality: series(7 * day, 1003, 3, 30), event: series(day, 2013, 8, 600) });
}

export const routes: Route[] = [
  { method: 'GET', path: '/meters/:serial/associationobjects', meter: 'view',
    handler: (c) => ok({ associationobjects: associationBits(c.meter.platinum, c.meter.phases), role: ACCESS_TEXT[c.gw.accessOf(c.user, c.meter.spec.serial)], serial: c.meter.spec.serial }) },
  { method: 'GET', path: '/meters/:serial/datetime', meter: 'view', handler: datetime },
  { method: 'POST', path: '/meters/:serial/datetime', meter: 'configure', handler: setDatetime },
  { method: 'GET', path: '/meters/:serial/info', meter: 'view', handler: info },
  { method: 'GET', path: '/meters/:serial/energy/conversionfactor', meter: 'view',
    handler: (c) => { electricity(c); return ok({ conversionfactor: { co2: [c.meter.conversion.co2, 'kg/kWh'], currency: [c.meter.conversion.currency, 'curr/kWh'] } }); } },
  { method: 'POST', path: '/meters/:serial/energy/conversionfactor', meter: 'configure', handler: setConversion },
  { method: 'GET', path: '/meters/:serial/hardwareversion', meter: 'view',
    handler: (c) => { electricity(c); return ok({ version: ['MAIN_BOARD_R2.1', 'IO_BOARD_R1.0', 'RS485_R1.1'] }); } },
  { method: 'GET', path: '/meters/:serial/mbusinfo', meter: 'view', handler: mbusinfo },
  { method: 'POST', path: '/meters/:serial/transformersettings', meter: 'configure', handler: setTransformer },
  // The health check: 200 = the meter communicates (serial is a number here, digest 6).
  { method: 'GET', path: '/meters/:serial/status', meter: 'view', handler: (c) => ok({ serial: c.meter.numericSerial, label: c.meter.label }) },
  { method: 'GET', path: '/meters/:serial/statusflags', meter: 'view', handler: statusflags },
  { method: 'GET', path: '/meters/:serial/events/:datetime', meter: 'view', handler: meterEvents },
  { method: 'GET', path: '/meters/:serial/events/:datetime/:count', meter: 'view', handler: meterEvents },
];
