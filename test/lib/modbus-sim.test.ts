/**
 * The Modbus meter simulator read by modbus-serial, a client we did not write: values in plausible
 * ranges for every profile, counters that rise, tariffs that add up, exceptions and faults as the
 * Modbus spec says, RTU-over-TCP framing, and the ems-sim command.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import ModbusRTU from 'modbus-serial';
import { MeterModel, ModbusMeterSimulator, type ModbusMeterSimulatorOptions } from '../../lib/sim/modbus-meter';
import { listProfiles, loadProfile, resolveValues } from '../../lib/protocols/modbus/profile';
import { decodeValue, registerCount } from '../../lib/protocols/modbus/datatypes';
import type { ResolvedValue } from '../../lib/protocols/modbus/types';
import { convert, unitInfo } from '../../lib/model/units';
import { FIXTURE_PROFILES, ROOT } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

const DIRS = [FIXTURE_PROFILES];
const sims: ModbusMeterSimulator[] = [];
const clients: ModbusRTU[] = [];

after(async () => {
  for (const c of clients) await new Promise<void>((r) => (c.isOpen ? c.close(() => r()) : r()));
  for (const s of sims) await s.close();
});

async function start(options: Partial<ModbusMeterSimulatorOptions> & Pick<ModbusMeterSimulatorOptions, 'units'>): Promise<[ModbusMeterSimulator, number]> {
  const sim = new ModbusMeterSimulator({ profileDirs: DIRS, ...options });
  sims.push(sim);
  return [sim, await sim.listen(0)];
}

async function connect(port: number, opts: { rtu?: boolean; timeout?: number; unit?: number } = {}): Promise<ModbusRTU> {
  const c = new ModbusRTU();
  clients.push(c);
  // RTU frames over TCP: modbus-serial's "telnet" port. (Its connectTcpRTUBuffered sends MBAP frames, despite the name.)
  if (opts.rtu) await c.connectTelnet('127.0.0.1', { port });
  else await c.connectTCP('127.0.0.1', { port });
  c.setTimeout(opts.timeout ?? 1000);
  c.setID(opts.unit ?? 1);
  return c;
}

async function closeClient(c: ModbusRTU): Promise<void> {
  await new Promise<void>((r) => c.close(() => r()));
}

/** Reads and decodes one profile value through modbus-serial; result in the profile's unit. */
async function readValue(c: ModbusRTU, rv: ResolvedValue): Promise<number> {
  const n = registerCount(rv.type);
  const res = rv.table === 'holding' ? await c.readHoldingRegisters(rv.register, n) : await c.readInputRegisters(rv.register, n);
  let v = decodeValue(res.buffer, 0, rv) * rv.scale;
  if (rv.scaleRegister !== undefined) {
    const sf = rv.table === 'holding' ? await c.readHoldingRegisters(rv.scaleRegister, 1) : await c.readInputRegisters(rv.scaleRegister, 1);
    v *= 10 ** sf.buffer.readInt16BE(0);
  }
  return v;
}

function modbusError(fn: () => Promise<unknown>, code: number): Promise<void> {
  return assert.rejects(fn, (err: Error & { modbusCode?: number }) => {
    assert.equal(err.modbusCode, code, `expected Modbus exception ${code}, got ${err.message}`);
    return true;
  });
}

function timesOut(fn: () => Promise<unknown>): Promise<void> {
  return assert.rejects(fn, (err: Error & { errno?: string }) => {
    assert.equal(err.errno, 'ETIMEDOUT', `expected a timeout, got ${err.message}`);
    return true;
  });
}

/** Sends raw bytes on a fresh socket (optionally in pieces) and collects `expect` response bytes. */
async function raw(port: number, pieces: Buffer[], expect: number, waitMs = 1000): Promise<Buffer> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => s.once('connect', () => r()).once('error', j));
  s.setNoDelay(true);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve) => {
    const t = setTimeout(() => resolve(Buffer.concat(chunks)), waitMs);
    s.on('data', (d) => {
      chunks.push(d);
      if (Buffer.concat(chunks).length >= expect) {
        clearTimeout(t);
        resolve(Buffer.concat(chunks));
      }
    });
  });
  for (const p of pieces) {
    s.write(p);
    await new Promise((r) => setTimeout(r, 20));
  }
  const out = await done;
  s.destroy();
  return out;
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Plausible range of a value by its unit's dimension (after conversion to canonical units). */
function checkPlausible(profile: string, rv: ResolvedValue, v: number): void {
  const where = `${profile} ${rv.obis} "${rv.name}" = ${v} ${rv.unit}`;
  assert.ok(Number.isFinite(v), where);
  const dim = unitInfo(rv.unit).dimension;
  const lineToLine = /L\d\s*-\s*L\d|line.to.line|phase.to.phase/i.test(rv.name);
  switch (dim) {
    case 'voltage': {
      const V = convert(v, rv.unit, 'V');
      if (lineToLine) assert.ok(V >= 380 && V <= 420, where);
      else assert.ok(V >= 220 && V <= 240, where);
      break;
    }
    case 'frequency': assert.ok(convert(v, rv.unit, 'Hz') >= 49.5 && convert(v, rv.unit, 'Hz') <= 50.5, where); break;
    case 'current': assert.ok(convert(v, rv.unit, 'A') >= 0 && convert(v, rv.unit, 'A') < 100, where); break;
    case 'active power': case 'reactive power': case 'apparent power':
      assert.ok(Math.abs(convert(v, rv.unit, unitInfo(rv.unit).canonical)) < 20, where); // < 20 kW
      break;
    case 'active energy': case 'reactive energy': case 'apparent energy':
      assert.ok(v >= 0 && convert(v, rv.unit, unitInfo(rv.unit).canonical) < 1e6, where);
      break;
    case 'ratio': {
      if (/power factor|\bPF\b|cos/i.test(rv.name)) {
        const pf = Math.abs(convert(v, rv.unit, ''));
        assert.ok(pf >= 0.9 && pf <= 1, where);
      }
      break;
    }
    default:
      break;
  }
}

test('meter model: deterministic for a seed however often it is read; counters only rise; PV exports at noon', () => {
  const start = Date.UTC(2024, 6, 1, 0, 0);
  let now = 0;
  const a = new MeterModel({ seed: 3, clock: () => now, start, speed: 60, utcOffsetMinutes: 0 });
  const b = new MeterModel({ seed: 3, clock: () => now, start, speed: 60, utcOffsetMinutes: 0 });
  const other = new MeterModel({ seed: 4, clock: () => now, start, speed: 60, utcOffsetMinutes: 0 });
  let last = 0;
  for (let i = 1; i <= 100; i++) {
    now = i * 7_000;
    const s = a.snapshot();
    const imp = s.counters['A+'].flat().reduce((x, y) => x + y, 0);
    assert.ok(imp >= last, 'import counter never falls');
    last = imp;
  }
  const sa = a.snapshot();
  const sb = b.snapshot(); // read once, at the end
  assert.deepEqual(sa.counters, sb.counters);
  assert.deepEqual(sa.power, sb.power);
  assert.notDeepEqual(other.snapshot().power, sa.power);
  for (let p = 0; p < 3; p++) {
    assert.ok(Math.abs(sa.voltage[p] / 230 - 1) <= 0.02, `V${p + 1} ${sa.voltage[p]}`);
    assert.ok(sa.pf[p] >= 0.9 && sa.pf[p] <= 0.99);
    assert.ok(Math.abs(sa.current[p] - Math.abs(sa.power[p]) / (sa.voltage[p] * sa.pf[p])) < 1e-9);
  }
  now = 0;
  const pv = new MeterModel({ seed: 1, start: Date.UTC(2024, 6, 1, 11, 0), clock: () => now, speed: 3600, utcOffsetMinutes: 0, pvPeakW: 6000 });
  const before = pv.snapshot();
  now = 2_000; // 11:00 -> 13:00
  const noon = pv.snapshot();
  const sum = (s: typeof noon, c: 'A+' | 'A-') => s.counters[c].flat().reduce((x, y) => x + y, 0);
  assert.ok(noon.power.reduce((x, y) => x + y, 0) < 0, 'net export at noon');
  assert.ok(sum(noon, 'A-') > sum(before, 'A-'), 'export counter rose');
});

test('meter model: setBaseLoad changes the load from now on; energy counted before keeps the old load', () => {
  const start = Date.UTC(2024, 6, 1, 0, 0); // 00:00 at UTC+0: night, the daily peaks far away
  let now = 0;
  const opts = { seed: 5, clock: () => now, start, utcOffsetMinutes: 0, baseLoadW: 400, peakW: 2500 };
  const a = new MeterModel(opts);
  const b = new MeterModel(opts);
  const imp = (s: ReturnType<MeterModel['snapshot']>) => s.counters['A+'].flat().reduce((x, y) => x + y, 0);
  const H = 3_600_000;
  now = 2 * H; // 02:00
  const at2 = imp(b.snapshot());
  b.setBaseLoad(2500);
  assert.equal(b.baseLoad, 2500);
  assert.equal(a.baseLoad, 400);
  assert.equal(imp(b.snapshot()), at2, 'the change does not touch what was counted');
  assert.equal(imp(a.snapshot()), at2, 'same seed and start: equal up to the change');
  const total = (s: ReturnType<MeterModel['snapshot']>) => s.power.reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(total(b.snapshot()) - 2500) < 2500 * 0.05, `power right after the jump ${total(b.snapshot())} W`);
  now = 3 * H; // 03:00
  const usedA = imp(a.snapshot()) - at2;
  const usedB = imp(b.snapshot()) - at2;
  assert.ok(Math.abs(usedA - 400) < 400 * 0.01, `an hour at 400 W base load: ${usedA} Wh`);
  assert.ok(Math.abs(usedB - 2500) < 2500 * 0.01, `an hour at 2500 W base load: ${usedB} Wh`);
  b.setBaseLoad(400);
  now = 4 * H;
  assert.ok(Math.abs(imp(b.snapshot()) - imp(a.snapshot()) - (usedB - usedA)) < 1e-3, 'back to 400 W: both count the same again');
  for (const bad of [-1, NaN, Infinity]) assert.throws(() => a.setBaseLoad(bad), /base load must be a number of watts >= 0/);
});

test('simulator: setBaseLoad(unit, W) shows on the wire; an unknown unit is an error', async () => {
  let now = Date.UTC(2024, 6, 1, 1, 0);
  const [sim, port] = await within(start({ units: [{ unit: 1, profile: 'eastron-sdm630', model: { baseLoadW: 400, peakW: 2000, utcOffsetMinutes: 0 } }], clock: () => now }), 5000, 'the simulator to listen');
  const c = await within(connect(port), 5000, 'modbus-serial to connect');
  const power = resolveValues(loadProfile('eastron-sdm630')).find((v) => v.obis === '1-0:16.7.0')!;
  const before = await within(readValue(c, power), 5000, 'total power before the jump');
  assert.ok(Math.abs(before - 400) < 400 * 0.05, `total power at 01:00 before the jump: ${before} W`);
  sim.setBaseLoad(1, 2500);
  now += 10_000; // the next 10 s bucket
  const after = await within(readValue(c, power), 5000, 'total power after the jump');
  assert.ok(Math.abs(after - 2500) < 2500 * 0.05, `total power after the jump: ${after} W`);
  assert.equal(sim.model(1).baseLoad, 2500);
  assert.throws(() => sim.setBaseLoad(9, 100), /unit 9 is not simulated/);
  await within(closeClient(c), 5000, 'modbus-serial to close');
});

describe('modbus-serial reads every profile', () => {
  const profiles = listProfiles(DIRS);
  test('there are profiles to read (fixtures at least)', () => {
    assert.ok(profiles.some((p) => p.id === 'sim-test-3phase'), `profiles: ${profiles.map((p) => p.id).join(', ')}`);
  });
  for (const summary of profiles) {
    test(`${summary.id}: every value decodes to a plausible number`, async () => {
      const [, port] = await start({ units: [{ unit: 7, profile: summary.id }] });
      const c = await connect(port, { unit: 7 });
      const values = resolveValues(loadProfile(summary.id, DIRS));
      for (const rv of values) checkPlausible(summary.id, rv, await readValue(c, rv));
      await closeClient(c);
    });
  }
});

test('fixture values decoded by hand match what the simulator model says', async () => {
  const now = Date.UTC(2024, 5, 3, 18, 30);
  const [sim, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }], clock: () => now });
  const c = await connect(port);
  const r = await c.readInputRegisters(0, 6);
  const volts = [0, 1, 2].map((i) => r.buffer.readFloatBE(i * 4));
  ['1-0:32.7.0', '1-0:52.7.0', '1-0:72.7.0'].forEach((obis, i) => {
    assert.ok(Math.abs(volts[i] - sim.valueOf(1, obis)) < 1e-3, `${obis}: read ${volts[i]}, model ${sim.valueOf(1, obis)}`);
    assert.ok(volts[i] > 225.4 && volts[i] < 234.6, `${obis} ${volts[i]} V within 230 V ± 2 %`);
  });
  const f = (await c.readInputRegisters(70, 2)).buffer.readFloatBE(0);
  assert.ok(f > 49.5 && f < 50.5, `frequency ${f}`);
  // The current is P / (V * PF) (L1: volts at 0, amps at 6, watts at 12, power factor at 30).
  const block = (await c.readInputRegisters(0, 32)).buffer;
  const [V, I, P, pf] = [0, 12, 24, 60].map((o) => block.readFloatBE(o));
  assert.ok(pf >= 0.9 && pf <= 0.99, `PF ${pf}`);
  assert.ok(Math.abs(I - Math.abs(P) / (V * pf)) < 0.01, `L1: I ${I} vs P/(V·PF) ${P / (V * pf)}`);
  // Holding: uint32 Wh in CDAB word order equals the float kWh counter.
  const wh = await c.readHoldingRegisters(0, 2);
  const whValue = wh.data[1] * 65536 + wh.data[0];
  const kwh = (await c.readInputRegisters(72, 2)).buffer.readFloatBE(0);
  assert.ok(Math.abs(whValue / 1000 - kwh) < 0.01, `holding ${whValue} Wh vs input ${kwh} kWh`);
  // uint16 voltage with scale 0.1, int16 current with a SunSpec scale register at 10.
  const h = await c.readHoldingRegisters(2, 2);
  assert.ok(Math.abs(h.data[0] / 10 - sim.valueOf(1, '1-0:12.7.0')) <= 0.05, `avg voltage raw ${h.data[0]}`);
  const sf = (await c.readHoldingRegisters(10, 1)).buffer.readInt16BE(0);
  assert.ok(Math.abs(h.buffer.readInt16BE(2) * 10 ** sf - sim.valueOf(1, '1-0:11.7.0')) < 0.01, `current raw ${h.buffer.readInt16BE(2)} sf ${sf}`);
  await closeClient(c);
});

test('energy counters rise with time acceleration, and tariff registers add up to the total', async () => {
  let now = Date.UTC(2024, 0, 15, 5, 0); // 05:00 UTC, tariff 2
  const [sim, port] = await start({
    units: [{ unit: 1, profile: 'sim-test-3phase', model: { utcOffsetMinutes: 0 } }, { unit: 2, profile: 'sim-test-strict', model: { utcOffsetMinutes: 0 } }],
    clock: () => now,
    speed: 3600, // one simulated hour per real second
  });
  const c = await connect(port);
  const read = async () => {
    c.setID(1);
    const b = (await c.readInputRegisters(100, 4)).buffer;
    const total = (await c.readInputRegisters(72, 2)).buffer.readFloatBE(0);
    c.setID(2);
    const s = (await c.readHoldingRegisters(10, 6)).buffer;
    return {
      t1: b.readFloatBE(0), t2: b.readFloatBE(4), total,
      strict: { total: s.readUInt32BE(0) / 100, t1: s.readUInt32BE(4) / 100, t2: s.readUInt32BE(8) / 100 },
    };
  };
  const first = await read();
  now += 2_000; // 2 h later: 07:00, tariff 1 since 06:00
  const second = await read();
  now += 16_000; // 23:00, tariff 2 again
  const third = await read();
  assert.ok(second.total > first.total, `import rose: ${first.total} -> ${second.total}`);
  const rise = second.total - first.total;
  assert.ok(rise > 0.2 && rise < 20, `2 h of a household: ${rise} kWh`);
  assert.ok(second.t1 > first.t1 && second.t2 > first.t2, 'both tariffs rose between 05:00 and 07:00');
  assert.ok(third.t1 - second.t1 > 5 * (third.t2 - second.t2), 'between 07:00 and 23:00 nearly all of it is tariff 1');
  for (const r of [first, second, third]) {
    assert.ok(Math.abs(r.t1 + r.t2 - r.total) < 0.01, `T1 ${r.t1} + T2 ${r.t2} = total ${r.total}`);
    assert.ok(Math.abs(r.strict.t1 + r.strict.t2 - r.strict.total) <= 0.02, `strict: ${JSON.stringify(r.strict)}`);
  }
  assert.ok(third.strict.total > first.strict.total);
  // Never backwards, even if the clock steps back.
  now -= 10_000;
  const back = await read();
  assert.ok(back.total >= third.total);
  assert.ok(Math.abs(sim.valueOf(1, '1-0:1.8.0') - back.total) < 0.01);
  await closeClient(c);
});

test('exceptions 01, 02 and 03 arrive as the Modbus spec says', async () => {
  const [, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }, { unit: 2, profile: 'sim-test-strict' }] });
  const c = await connect(port);
  await modbusError(() => c.readCoils(0, 1), 1); // FC 1 is not a meter function
  await modbusError(() => c.readInputRegisters(104, 2), 2); // past the last mapped input register (103)
  await modbusError(() => c.readInputRegisters(100, 10), 2); // starts inside, ends outside
  await modbusError(() => c.readHoldingRegisters(22, 1), 2); // the uint32 at 20 ends at 21
  await modbusError(() => c.writeRegister(0, 1), 2); // a measurement register is not writable
  // Gaps: the float profile (no maxGap: 0) reads gaps inside the map as 0; the strict one (maxGap 0) refuses them.
  const g = await c.readInputRegisters(16, 16);
  assert.deepEqual(g.data.slice(2, 14), new Array(12).fill(0), 'registers 18..29 are a gap read as 0');
  c.setID(2);
  await modbusError(() => c.readHoldingRegisters(0, 12), 2);
  assert.equal((await c.readHoldingRegisters(0, 4)).data.length, 4);
  await closeClient(c);
  // Quantity 0 and 126: exception 03 (checked before the address), exact MBAP bytes.
  const q0 = await raw(port, [hex('0007 0000 0006 01 04 0000 0000')], 9);
  assert.deepEqual(q0, hex('0007 0000 0003 01 84 03'));
  const q126 = await raw(port, [hex('0008 0000 0006 01 03 FFFF 007E')], 9);
  assert.deepEqual(q126, hex('0008 0000 0003 01 83 03'));
  const fc43 = await raw(port, [hex('0009 0000 0005 01 2B 0E 01 00')], 9);
  assert.deepEqual(fc43, hex('0009 0000 0003 01 AB 01'));
});

test('a dead unit times out while another unit on the same port answers; faults come and go', async () => {
  const [sim, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }, { unit: 2, profile: 'sim-test-3phase' }, { unit: 3, profile: 'sim-test-strict' }] });
  const c = await connect(port, { timeout: 300 });
  sim.setFault(2, { kind: 'dead' });
  c.setID(2);
  await timesOut(() => c.readInputRegisters(0, 2));
  c.setID(1);
  assert.equal((await c.readInputRegisters(0, 2)).data.length, 2);
  c.setID(9); // not simulated: no answer, like a gateway with a dead slave
  await timesOut(() => c.readInputRegisters(0, 2));
  sim.setFault(3, { kind: 'timeout' });
  c.setID(3);
  await timesOut(() => c.readHoldingRegisters(0, 1));
  sim.setFault(3, { kind: 'exception', code: 4 });
  await modbusError(() => c.readHoldingRegisters(0, 1), 4);
  sim.clearFault(3);
  sim.clearFault(2);
  assert.equal((await c.readHoldingRegisters(0, 1)).data.length, 1);
  c.setID(2);
  assert.equal((await c.readInputRegisters(0, 2)).data.length, 2);
  const st = sim.stats;
  assert.equal(st.units[2].requests, 2);
  assert.equal(st.units[2].dropped, 1);
  assert.equal(st.units[3].requests, 3);
  assert.equal(st.units[3].exceptions, 1);
  assert.equal(st.units[1].responses, 1);
  assert.equal(st.unknownUnit, 1);
  await closeClient(c);
});

test('gateway mode answers unknown and dead units with exception 0x0B', async () => {
  const [sim, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }], unknownUnit: 'gateway-exception' });
  const c = await connect(port, { unit: 5, timeout: 500 });
  await modbusError(() => c.readInputRegisters(0, 2), 0x0b);
  sim.setFault(1, { kind: 'dead' });
  c.setID(1);
  await modbusError(() => c.readInputRegisters(0, 2), 0x0b);
  await closeClient(c);
});

test('a slow unit answers late: after a client timeout shorter than its delay, in time for a longer one', async () => {
  const [sim, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }, { unit: 2, profile: 'sim-test-3phase' }] });
  sim.setFault(1, { kind: 'slow', delayMs: 400 });
  const fast = await connect(port, { timeout: 150 });
  await timesOut(() => fast.readInputRegisters(0, 2));
  await closeClient(fast);
  const patient = await connect(port, { timeout: 2000 });
  const t0 = Date.now();
  assert.equal((await patient.readInputRegisters(0, 2)).data.length, 2);
  assert.ok(Date.now() - t0 >= 350, `answered after ${Date.now() - t0} ms`);
  patient.setID(2);
  assert.equal((await patient.readInputRegisters(0, 2)).data.length, 2);
  await closeClient(patient);
});

test('MBAP: pipelined requests and frames split across TCP chunks all get answers with their transaction ids', async () => {
  const [, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }, { unit: 2, profile: 'sim-test-strict' }] });
  const a = hex('0001 0000 0006 01 04 0000 0002');
  const b = hex('0002 0000 0006 02 03 0000 0001');
  const c = hex('0003 0000 0006 01 04 0046 0002');
  const out = await raw(port, [Buffer.concat([a, b, c.subarray(0, 3)]), c.subarray(3, 9), c.subarray(9)], 13 + 11 + 13);
  assert.equal(out.length, 37);
  assert.deepEqual(out.subarray(0, 9), hex('0001 0000 0007 01 04 04'));
  assert.deepEqual(out.subarray(13, 22), hex('0002 0000 0005 02 03 02'));
  assert.deepEqual(out.subarray(24, 33), hex('0003 0000 0007 01 04 04'));
  const hz = out.readFloatBE(33);
  assert.ok(hz > 49.5 && hz < 50.5, `frequency ${hz}`);
});

test('RTU over TCP: modbus-serial reads through CRC-16 framing; frames split byte by byte; bad CRC ignored', async () => {
  const [sim, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase' }, { unit: 4, profile: 'sim-test-strict' }], framing: 'rtu-over-tcp' });
  const c = await connect(port, { rtu: true });
  const v = (await c.readInputRegisters(0, 2)).buffer.readFloatBE(0);
  assert.ok(Math.abs(v - sim.valueOf(1, '1-0:32.7.0')) < 0.5, `voltage ${v}`);
  c.setID(4);
  const f = (await c.readHoldingRegisters(3, 1)).data[0] / 100;
  assert.ok(f > 49.5 && f < 50.5, `frequency ${f}`);
  await modbusError(() => c.readHoldingRegisters(4, 1), 2);
  await closeClient(c);
  const req = hex('04 03 0000 0001 845F'); // unit 4, read holding 0, 1 register
  const reply = await raw(port, [...req].map((x) => Buffer.from([x])), 7);
  assert.equal(reply.length, 7);
  assert.deepEqual(reply.subarray(0, 3), hex('04 03 02'));
  const { checkCrc } = await import('../../lib/protocols/modbus/crc16');
  assert.ok(checkCrc(reply), `CRC of ${reply.toString('hex')}`);
  const bad = await raw(port, [hex('04 03 0000 0001 8460')], 1, 300);
  assert.equal(bad.length, 0, 'a frame with a bad CRC gets no answer');
});

test('FC 6 and FC 16 write a writable holding area that reads back', async () => {
  const [, port] = await start({ units: [{ unit: 1, profile: 'sim-test-3phase', map: { writable: { start: 1000, count: 4 } } }] });
  const c = await connect(port);
  await c.writeRegister(1000, 0xbeef);
  await c.writeRegisters(1001, [1, 2, 3]);
  assert.deepEqual((await c.readHoldingRegisters(1000, 4)).data, [0xbeef, 1, 2, 3]);
  await modbusError(() => c.writeRegisters(1002, [1, 2, 3]), 2);
  await closeClient(c);
});

test('close() drops connections and releases the port', async () => {
  const sim = new ModbusMeterSimulator({ profileDirs: DIRS, units: [{ unit: 1, profile: 'sim-test-3phase' }] });
  const port = await sim.listen(0);
  assert.deepEqual(sim.address(), { host: '127.0.0.1', port });
  const c = await connect(port);
  await c.readInputRegisters(0, 2);
  const closed = new Promise<void>((r) => c.on('close', () => r()));
  const t0 = Date.now();
  await sim.close();
  await closed;
  assert.ok(Date.now() - t0 < 2000);
  const again = net.createServer();
  await new Promise<void>((r, j) => again.once('error', j).listen(port, '127.0.0.1', () => r()));
  await new Promise<void>((r) => again.close(() => r()));
  await sim.close(); // twice is fine
});

test('bad options are refused with the field and value named', () => {
  assert.throws(() => new ModbusMeterSimulator({ units: [] }), /units/);
  assert.throws(() => new ModbusMeterSimulator({ profileDirs: DIRS, units: [{ unit: 1, profile: 'sim-test-3phase' }, { unit: 1, profile: 'sim-test-3phase' }] }), /unit 1 is configured twice/);
  assert.throws(() => new ModbusMeterSimulator({ profileDirs: DIRS, units: [{ unit: 1, profile: 'no-such-profile' }] }), /unknown profile "no-such-profile"/);
  const sim = new ModbusMeterSimulator({ profileDirs: DIRS, units: [{ unit: 1, profile: 'sim-test-3phase' }] });
  assert.throws(() => sim.setFault(2, { kind: 'dead' }), /unit 2 is not simulated/);
  assert.throws(() => sim.setFault(1, { kind: 'slow', delayMs: -1 }), /delayMs/);
  assert.throws(() => sim.valueOf(1, '1-0:99.7.0'), /no value 1-0:99.7.0/);
});

describe('ems-sim command', () => {
  const bin = path.join(ROOT, 'dist', 'bin', 'ems-sim.js');

  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [bin, ...args], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  test('starts, prints one line with host:port, units and profiles, serves, and exits 0 on SIGTERM', async () => {
    const p = spawn(process.execPath, [bin, 'modbus-meter', '--port', '0', '--profile-dir', FIXTURE_PROFILES, '--profile', 'sim-test-3phase',
      '--units', '1,2', '--profiles', '5:sim-test-strict', '--fault', '2:dead', '--speed', '60'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const line = await new Promise<string>((resolve, reject) => {
      p.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
      p.on('close', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const m = /listening on 127\.0\.0\.1:(\d+) .*units 1,2,5, profiles 1=sim-test-3phase, 2=sim-test-3phase \(dead\), 5=sim-test-strict/.exec(line);
    assert.ok(m, line);
    const c = await connect(Number(m[1]), { timeout: 300 });
    const v = (await c.readInputRegisters(0, 2)).buffer.readFloatBE(0);
    assert.ok(v > 220 && v < 240, `voltage ${v}`);
    c.setID(2);
    await timesOut(() => c.readInputRegisters(0, 2));
    c.setID(5);
    assert.equal((await c.readHoldingRegisters(0, 4)).data.length, 4);
    await closeClient(c);
    const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
    p.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });

  test('--arrivals appends one line per request received: epoch ms, unit, function code, start address', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-sim-arrivals-'));
    const file = path.join(dir, 'arrivals.log');
    const p = spawn(process.execPath, [bin, 'modbus-meter', '--port', '0', '--profile-dir', FIXTURE_PROFILES, '--profile', 'sim-test-3phase',
      '--units', '3', '--arrivals', file], { cwd: ROOT });
    try {
      let stdout = '';
      const line = await within(new Promise<string>((resolve, reject) => {
        p.stdout.on('data', (d) => { stdout += d; if (stdout.includes('\n')) resolve(stdout.split('\n')[0]); });
        p.on('close', (code) => reject(new Error(`exited ${code}`)));
      }), 10_000, 'the simulator\'s first line');
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
      const c = await connect(port, { timeout: 300 });
      const before = Date.now();
      c.setID(3);
      await c.readInputRegisters(4, 2);
      await c.readInputRegisters(0, 2);
      const after = Date.now();
      c.setID(9); // not simulated: not logged
      await timesOut(() => c.readInputRegisters(0, 2));
      await closeClient(c);
      const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
      p.kill('SIGTERM');
      assert.equal(await within(exited, 10_000, 'the simulator to exit'), 0);
      const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number));
      assert.deepEqual(rows.map((r) => r.slice(1)), [[3, 4, 4], [3, 4, 0]]);
      for (const [t] of rows) assert.ok(t >= before && t <= after, `arrival ${t} outside ${before}..${after}`);
    } finally {
      p.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad options exit 2 naming the option and value; --help and list exit 0', async () => {
    const cases: [string[], RegExp][] = [
      [['modbus-meter', '--port', '70000'], /--port: "70000"/],
      [['modbus-meter', '--units', '1,x'], /--units: "x"/],
      [['modbus-meter', '--speed', '0'], /--speed: "0"/],
      [['modbus-meter', '--fault', '1:melted'], /--fault: "1:melted"/],
      [['modbus-meter', '--profiles', '1=abb'], /--profiles: "1=abb"/],
      [['modbus-meter', '--profile', 'no-such-meter'], /--profile: unknown profile "no-such-meter"/],
      [['modbus-meter', '--colour', 'red'], /--colour/],
      [['mbus-slave'], /unknown simulator "mbus-slave"/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /modbus-meter/);
    const mhelp = await run(['modbus-meter', '--help']);
    assert.equal(mhelp.code, 0);
    assert.match(mhelp.stdout, /--rtu-over-tcp/);
    const list = await run(['list', '--profile-dir', FIXTURE_PROFILES]);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /modbus-meter/);
    assert.match(list.stdout, /profile sim-test-3phase/);
  });
});
