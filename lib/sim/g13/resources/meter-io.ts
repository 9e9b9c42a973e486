/** I/O ports, pulse outputs and alarms (6.3.52-53, 6.3.63-68). */
import type { AlarmConf } from '../meter';
import { STORABLE } from '../quantities';
import { DES, G13Error, applyInOrder, bodyObj, fail, isInt, isObj, ok, type Ctx, type Obj, type Route } from '../reply';
import { electricity } from './meter-info';

/** I/O configuration codes (6.3.67) and their GET names (6.3.64, "communiation_out" sic). */
export const IO_NAMES: Record<number, string> = { 0: 'input', 1: 'communiation_out', 2: 'alarm_out', 3: 'pulse_out', 4: 'tariff_out', 5: 'always_on', 6: 'always_off' };
const ENERGY_TYPES = ['active_import', 'active_export', 'reactive_import', 'reactive_export', 'turned_off'];
const bad = (des: string) => new G13Error(400, des);

function getIo(ctx: Ctx) {
  electricity(ctx);
  const m = ctx.meter;
  return ok({ iostatus: m.io.map((p, i) => (m.ioconfig[i] === 0 ? { currentstate: p.state, storedstate: p.stored, counter: p.counter } : { currentstate: p.state })) });
}

function postIo(ctx: Ctx) {
  electricity(ctx);
  const list = bodyObj(ctx).iostatus;
  if (!Array.isArray(list) || list.length === 0 || list.length > 4) fail(400, DES.missing('iostatus'));
  const m = ctx.meter;
  return applyInOrder((list as unknown[]).map((item, i) => [`iostatus[${i}]`, () => {
    if (!isObj(item) || !isInt(item.port) || item.port < 1 || item.port > 4) throw bad(DES.missing('port'));
    const p = m.io[item.port - 1];
    const isInput = m.ioconfig[item.port - 1] === 0;
    if (item.currentstate !== undefined) {
      // currentstate applies to outputs only
      if (isInput || (item.currentstate !== 0 && item.currentstate !== 1)) throw bad(DES.INVALID);
      p.state = item.currentstate as number;
    }
    if (item.reset !== undefined) {
      // reset (storedstate and/or counter) applies to inputs only
      const r = item.reset;
      if (!isInput || !Array.isArray(r) || !r.every((x) => x === 'storedstate' || x === 'counter')) throw bad(DES.INVALID);
      if (r.includes('storedstate')) p.stored = 0;
      if (r.includes('counter')) p.counter = 0;
    }
  }]));
}

function postIoConfig(ctx: Ctx) {
  electricity(ctx);
  const list = bodyObj(ctx).ioconfig;
  if (!Array.isArray(list) || list.length === 0 || list.length > 4) fail(400, DES.missing('ioconfig'));
  const m = ctx.meter;
  return applyInOrder((list as unknown[]).map((code, i) => [`ioconfig[${i}]`, () => {
    if (code === 0xff) return; // don't change
    if (!isInt(code) || !(code in IO_NAMES)) throw bad(DES.INVALID);
    m.ioconfig[i] = code;
  }]));
}

function getPulse(ctx: Ctx) {
  electricity(ctx);
  // In GET, energytype is a string; port 1-4 or 255 = off.
  return ok({ pulse: ctx.meter.pulse.map((p) => ({ length: p.length, frequency: p.frequency, energytype: ENERGY_TYPES[p.energytype] ?? 'invalid', port: p.port })) });
}

function postPulse(ctx: Ctx) {
  electricity(ctx);
  const list = bodyObj(ctx).pulse;
  if (!Array.isArray(list) || list.length === 0 || list.length > 4) fail(400, DES.missing('pulse'));
  const m = ctx.meter;
  return applyInOrder((list as unknown[]).map((item, i) => [`pulse[${i}]`, () => {
    if (!isObj(item) || !isInt(item.id) || item.id < 1 || item.id > 4) throw bad(DES.missing('id'));
    const p = m.pulse[item.id - 1];
    const o = item as Obj;
    if (o.port !== undefined && !(isInt(o.port) && ((o.port >= 1 && o.port <= 4) || o.port === 255))) throw bad(DES.missing('port'));
    if (o.length !== undefined && !(isInt(o.length) && o.length >= 10 && o.length <= 1000)) throw bad(DES.missing('length'));
    if (o.frequency !== undefined && !(isInt(o.frequency) && o.frequency >= 1 && o.frequency <= 100000)) throw bad(DES.missing('frequency'));
    // In POST, energytype is an int: 0-3 energies, 4 turned off.
    if (o.energytype !== undefined && !(isInt(o.energytype) && o.energytype >= 0 && o.energytype <= 4)) throw bad(DES.missing('energytype'));
    if (o.port !== undefined) p.port = o.port as number;
    if (o.length !== undefined) p.length = o.length as number;
    if (o.frequency !== undefined) p.frequency = o.frequency as number;
    if (o.energytype !== undefined) p.energytype = o.energytype as number;
  }]));
}

function postAlarm(ctx: Ctx) {
  electricity(ctx);
  const a = bodyObj(ctx).alarmconfig;
  // A single object, not an array.
  if (!isObj(a) || !isInt(a.id) || a.id < 1 || a.id > 25) fail(400, DES.INVALID);
  const m = ctx.meter;
  const id = (a as Obj).id as number;
  const keys = Object.keys(a as Obj).filter((k) => k !== 'id');
  if (keys.length === 0) { m.alarms[id - 1] = { id }; return { status: 200, json: { status: 'success' } }; } // deactivate
  const o = a as Obj;
  const ints = ['onthreshold', 'offthreshold', 'ondelay', 'offdelay'];
  if (!isInt(o.quantity) || !STORABLE.ac.includes(o.quantity)) fail(400, DES.INVALID);
  if (!ints.every((k) => isInt(o[k])) || typeof o.log !== 'boolean' || !isInt(o.output) || o.output < 1 || o.output > 4) fail(400, DES.INVALID);
  // The output port must first be configured as alarm_out (6.3.53 note).
  if (m.ioconfig[(o.output as number) - 1] !== 2) fail(400, DES.INVALID);
  const conf: AlarmConf = { id, quantity: o.quantity as number, onthreshold: o.onthreshold as number, offthreshold: o.offthreshold as number,
    ondelay: o.ondelay as number, offdelay: o.offdelay as number, log: o.log as boolean, output: o.output as number };
  m.alarms[id - 1] = conf;
  return { status: 200, json: { status: 'success' } };
}

export const routes: Route[] = [
  { method: 'GET', path: '/meters/:serial/io', meter: 'view', handler: getIo },
  { method: 'POST', path: '/meters/:serial/io', meter: 'configure', handler: postIo },
  { method: 'GET', path: '/meters/:serial/io/configuration', meter: 'view', handler: (c) => { electricity(c); return ok({ ioconfig: c.meter.ioconfig.map((x) => IO_NAMES[x]) }); } },
  { method: 'POST', path: '/meters/:serial/io/configuration', meter: 'configure', handler: postIoConfig },
  { method: 'GET', path: '/meters/:serial/io/pulse', meter: 'view', handler: getPulse },
  { method: 'POST', path: '/meters/:serial/io/pulse', meter: 'configure', handler: postPulse },
  { method: 'GET', path: '/meters/:serial/alarms/configuration', meter: 'view', handler: (c) => { electricity(c); return ok({ alarmconfig: c.meter.alarms }); } },
  { method: 'POST', path: '/meters/:serial/alarms/configuration', meter: 'configure', handler: postAlarm },
];
