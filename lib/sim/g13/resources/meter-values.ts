/** Live per-meter measurements (6.3.54-6.3.62). */
import { DES, SUCCESS, bodyObj, fail, isObj, ok, type Ctx, type Route } from '../reply';
import { electricity } from './meter-info';

function energy(ctx: Ctx) {
  const type = ctx.params.type;
  if (type !== 'active' && type !== 'reactive' && type !== 'apparent') fail(404, DES.NOT_FOUND);
  const m = ctx.meter;
  if (m.water) {
    // Simulator extension: an M-Bus water meter answers energy/active with its volume in m3.
    if (type !== 'active') fail(500, DES.COSEM);
    return ok({ importenergy: { total: [m.importKwh(ctx.now).toFixed(3), 'm3'] } });
  }
  return ok(m.energy(type as 'active', ctx.now));
}

function converted(ctx: Ctx) {
  electricity(ctx);
  const { type, mode } = ctx.params;
  if (type !== 'active' || (mode !== 'co2' && mode !== 'currency')) fail(404, DES.NOT_FOUND);
  const m = ctx.meter;
  const kwh = m.importKwh(ctx.now);
  const v = mode === 'co2' ? kwh * m.conversion.co2 : kwh * m.conversion.currency;
  // The manual shows "KG" for co2; the currency unit is undocumented ("CURR" here).
  return ok({ importenergy: { total: [v.toFixed(2), mode === 'co2' ? 'KG' : 'CURR'] } });
}

function reset(ctx: Ctx) {
  electricity(ctx);
  const r = bodyObj(ctx).resettableenergy;
  const keys = ['activeimport', 'activeexport', 'reactiveimport', 'reactiveexport'] as const;
  if (!isObj(r) || !Object.keys(r).every((k) => (keys as readonly string[]).includes(k) && typeof r[k] === 'boolean')) fail(400, DES.missing('resettableenergy'));
  const m = ctx.meter;
  const now = ctx.now;
  // Each reset increments the reset counter.
  for (const k of keys) if ((r as Record<string, unknown>)[k] === true) { m.resetAt[k] = now; m.resetCount[k]++; }
  return SUCCESS;
}

export const routes: Route[] = [
  { method: 'GET', path: '/meters/:serial/energy/resettable', meter: 'view', handler: (c) => { electricity(c); return ok({ resettableenergy: c.meter.resettable(c.now) }); } },
  { method: 'POST', path: '/meters/:serial/energy/resettable', meter: 'configure', handler: reset },
  { method: 'GET', path: '/meters/:serial/energy/resetcounter', meter: 'view',
    handler: (c) => { electricity(c); const n = c.meter.resetCount; return ok({ resetcounter: { activeexport: n.activeexport.toFixed(2), activeimport: n.activeimport.toFixed(2) } }); } },
  { method: 'GET', path: '/meters/:serial/energy/:type', meter: 'view', handler: energy },
  { method: 'GET', path: '/meters/:serial/energy/:type/:mode', meter: 'view', handler: converted },
  // !! "/power" in the resource table and text, "/powers" in the contents (digest 3.6 #59): both served.
  { method: 'GET', path: '/meters/:serial/power', meter: 'view', handler: (c) => { electricity(c); return ok(c.meter.power(c.now)); } },
  { method: 'GET', path: '/meters/:serial/powers', meter: 'view', handler: (c) => { electricity(c); return ok(c.meter.power(c.now)); } },
  { method: 'GET', path: '/meters/:serial/instrument', meter: 'view', handler: (c) => { electricity(c); return ok(c.meter.instrument(c.now)); } },
  { method: 'GET', path: '/meters/:serial/harmonics/:kind', meter: 'view', handler: (c) => {
    electricity(c);
    const kind = c.params.kind;
    if (kind !== 'voltage' && kind !== 'current') fail(404, DES.NOT_FOUND);
    // Harmonics on Platinum meters only.
    if (!c.meter.platinum) fail(500, DES.COSEM);
    return ok(c.meter.harmonics(kind as 'voltage', c.now));
  } },
];
