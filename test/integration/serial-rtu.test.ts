// Modbus RTU on a serial port: ems-modbus-meter opens one end of a socat pseudo-terminal pair with
// serialport; the simulated meters serve the other end through the baud-paced line, so answers take
// their real wire time and the simulator sees every silence between frames as a bus would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import modbusClient from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { charMs, ModbusRtuSerial, openPtyPair, parseLine, type PtyPair } from '../../lib/sim/serial';
import type { Reading } from '../../lib/model';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');
const PROFILES = ['eastron-sdm630', 'schneider-iem3000', 'abb-a44', 'eastron-sdm120'];

describe('ems-modbus-meter on a serial RTU bus (pty, paced simulator)', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let dir: string;
  const opened: { pair: PtyPair; serial: ModbusRtuSerial }[] = [];

  /** A pty pair with `units` simulated meters on its far end at `baud` 8E1. */
  async function bus(baud: number, units: { unit: number; profile: string }[]) {
    const pair = await openPtyPair(fs.mkdtempSync(path.join(dir, 'bus-')), socat);
    const sim = new ModbusMeterSimulator({ units });
    const serial = await ModbusRtuSerial.open(sim, pair.slave, parseLine('8E1', baud));
    opened.push({ pair, serial });
    return { tty: pair.master, sim, serial };
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-rtu-'));
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    for (const { pair, serial } of opened) {
      await serial.close();
      await pair.close();
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('polls two units of different makes through the serial port', async () => {
    const { tty, sim } = await bus(19200, [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 7, profile: 'schneider-iem3000' }]);
    sim.setFixed(1, '1-0:1.8.0', 777.25);
    sim.setFixed(7, '1-0:1.8.0', 4_242_500); // the iEM3000 counts Wh (int64)
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus', type: 'ems-modbus-client', transport: 'rtu', serialPath: tty, baudRate: '19200', parity: 'even', dataBits: '8', stopBits: '1', timeout: '1000', retries: '1' },
      { id: 'n-a', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'a', unit: '1', profile: 'eastron-sdm630', wires: [['out']] },
      { id: 'n-b', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'b', unit: '7', profile: 'schneider-iem3000', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load([modbusClient, modbusMeter], flow);
    const msgs: any[] = [];
    const both = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.push(m); if (msgs.length === 2) r(); }));
    helper.getNode('n-a').receive({});
    helper.getNode('n-b').receive({});
    await within(both, 20_000, 'the readings of meters a and b');
    const energy = (id: string) => (msgs.find((m) => m.topic === id).payload as Reading[]).find((r) => r.obis === '1-0:1.8.0')!.value;
    assert.equal(energy('a'), 777.25);
    assert.equal(energy('b'), 4242.5);
    assert.equal(sim.stats.framingErrors, 0);
    await helper.unload();
  });

  it('reads 32 meters on one 9600 baud bus one request at a time, with at least t3.5 between frames', async () => {
    const units = Array.from({ length: 32 }, (_, i) => ({ unit: i + 1, profile: PROFILES[i % PROFILES.length] }));
    const { tty, sim, serial } = await bus(9600, units);
    for (const u of units) sim.setFixed(u.unit, '1-0:1.8.0', u.profile === 'schneider-iem3000' ? (1000 + u.unit) * 1000 : 1000 + u.unit);
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus32', type: 'ems-modbus-client', transport: 'rtu', serialPath: tty, baudRate: '9600', parity: 'even', dataBits: '8', stopBits: '1', timeout: '1000', retries: '0' },
      ...units.map((u) => ({ id: `m${u.unit}`, z: 'tab', type: 'ems-modbus-meter', client: 'bus32', meterId: `meter-${u.unit}`, unit: String(u.unit), profile: u.profile, wires: [['out']] })),
      { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load([modbusClient, modbusMeter], flow);
    const errors: string[] = [];
    helper.getNode('caught').on('input', (m: any) => errors.push(m.error.message));
    const msgs = new Map<string, any>();
    const all = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.set(m.topic, m); if (msgs.size === 32) r(); }));
    const spans0 = serial.line.spans.length;
    const gaps0 = serial.line.rxGapsMs.length;
    for (const u of units) helper.getNode(`m${u.unit}`).receive({});
    await within(all, 60_000, () => `the readings of 32 meters (got ${msgs.size}, errors: ${errors.join('; ')})`);
    assert.deepEqual(errors, []);
    for (const u of units) {
      const e = (msgs.get(`meter-${u.unit}`).payload as Reading[]).find((r) => r.obis === '1-0:1.8.0')!;
      assert.equal(e.value, 1000 + u.unit, `meter-${u.unit} (unit ${u.unit}, ${u.profile})`);
    }
    // One request at a time: every request is answered before the next one starts.
    const spans = serial.line.spans.slice(spans0);
    assert.ok(spans.length >= 64);
    spans.forEach((s, i) => assert.equal(s.dir, i % 2 === 0 ? 'rx' : 'tx', `frame ${i} on the line is ${s.dir}`));
    assert.equal(serial.line.stats.collisions, 0, 'no request while a meter was answering');
    assert.equal(serial.line.stats.brokenFrames, 0);
    const t35 = 3.5 * charMs(serial.line.line);
    const gaps = serial.line.rxGapsMs.slice(gaps0 + 1); // the first request follows a long silence
    const short = gaps.filter((g) => g < t35);
    assert.deepEqual(short.map((g) => `${g.toFixed(2)} ms`), [], `silences before requests under t3.5 = ${t35.toFixed(2)} ms`);
    assert.equal(sim.stats.framingErrors, 0);
  });
});
