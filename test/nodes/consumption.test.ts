import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import consumption from '../../nodes/consumption/consumption';
import { Quality, type Reading } from '../../lib/model';
import type { ConsumptionRecord } from '../../lib/pipeline/consumption';

helper.init(require.resolve('node-red'));

const T0 = Date.UTC(2026, 0, 5, 10, 0); // 10:00 UTC
const MIN = 60_000;
const kwh = (time: number, value: number, extra: Partial<Reading> = {}): Reading => ({ meter: 'main', time, obis: '1-0:1.8.0', value, unit: 'kWh', ...extra });

function flow(config: Record<string, unknown>) {
  const f: any[] = [
    { id: 'flow1', type: 'tab' },
    { id: 'cons', z: 'flow1', type: 'ems-consumption', interval: '1h', timeZone: 'UTC', interpolate: false, rolloverAt: '', maxPower: '', obis: '', wires: [['out']], ...config },
    { id: 'catcher', z: 'flow1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'flow1', type: 'helper' },
    { id: 'out', z: 'flow1', type: 'helper' },
  ];
  return f;
}

describe('ems-consumption', () => {
  let userDir: string;
  let outs: any[];
  let errors: any[];
  const stateFile = () => path.join(userDir, 'ems-state', 'consumption-cons.json');

  async function load(config: Record<string, unknown> = {}): Promise<void> {
    await helper.load(consumption, flow(config));
    outs = [];
    errors = [];
    helper.getNode('out').on('input', (m: any) => outs.push(m));
    helper.getNode('caught').on('input', (m: any) => errors.push(m));
  }
  /** Sends msgs one after the other, each after the previous one is done. */
  async function send(...msgs: any[]): Promise<void> {
    for (const m of msgs) {
      helper.getNode('cons').receive(m);
      await new Promise((r) => setImmediate(r));
    }
  }
  const records = (): ConsumptionRecord[] => outs.flatMap((m) => m.payload);

  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-consumption-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('emits hourly windows from cumulative readings, passing power readings over', async () => {
    await load();
    await send(
      { topic: 'main', payload: [kwh(T0, 100), { meter: 'main', time: T0, obis: '1-0:1.7.0', value: -3, unit: 'kW' }] },
      { topic: 'main', payload: kwh(T0 + 30 * MIN, 101.5) },
    );
    assert.equal(outs.length, 0, 'nothing is sent until a window is complete');
    await send({ topic: 'main', payload: kwh(T0 + 60 * MIN, 103) }, { payload: kwh(T0 + 90 * MIN, 104) }, { payload: kwh(T0 + 120 * MIN, 106.25) });
    assert.equal(outs.length, 2);
    assert.equal(outs[0].topic, 'main');
    assert.deepEqual(records(), [
      { meter: 'main', obis: '1-0:1.8.0', from: T0, to: T0 + 60 * MIN, value: 3, unit: 'kWh', quality: 0 },
      { meter: 'main', obis: '1-0:1.8.0', from: T0 + 60 * MIN, to: T0 + 120 * MIN, value: 3.25, unit: 'kWh', quality: 0 },
    ]);
    assert.equal(errors.length, 0);
  });

  it('flags a rollover and a meter reset (one record per step without an interval)', async () => {
    await load({ interval: '', rolloverAt: '100000' });
    await send(
      { payload: [kwh(T0, 99999.5), kwh(T0, 5000, { meter: 'sub' })] },
      { payload: [kwh(T0 + 15 * MIN, 0.7), kwh(T0 + 15 * MIN, 2, { meter: 'sub' })] },
    );
    const [roll, reset] = records();
    assert.deepEqual(roll, { meter: 'main', obis: '1-0:1.8.0', from: T0, to: T0 + 15 * MIN, value: 1.2, unit: 'kWh', quality: Quality.OVERFLOW });
    assert.equal(reset.meter, 'sub');
    assert.equal(reset.value, 2);
    assert.equal(reset.quality, Quality.COUNTER_RESET);
  });

  it('uses only the configured OBIS codes', async () => {
    await load({ interval: '', obis: '1-0:2.8.0, 1.8.0' });
    await send(
      { payload: [kwh(T0, 10), kwh(T0, 1, { obis: '1-0:2.8.0' }), kwh(T0, 7, { obis: '1-0:1.8.1' })] },
      { payload: [kwh(T0 + MIN, 11), kwh(T0 + MIN, 1.5, { obis: '1-0:2.8.0' }), kwh(T0 + MIN, 1, { obis: '1-0:1.8.1' })] },
    );
    assert.deepEqual(records().map((r) => [r.obis, r.value]), [['1-0:1.8.0', 1], ['1-0:2.8.0', 0.5]]);
    assert.equal(errors.length, 0, 'the tariff register 1-0:1.8.1 (going down) is passed over, not refused');
  });

  it('sends an out-of-order reading to Catch naming it, and still counts the other readings', async () => {
    await load();
    await send({ payload: [kwh(T0 + 30 * MIN, 100), kwh(T0, 50, { meter: 'sub' })] });
    const input = [kwh(T0 + 60 * MIN, 60, { meter: 'sub' }), kwh(T0 + 10 * MIN, 99)];
    await send({ topic: 'both', payload: input });
    assert.equal(errors.length, 1);
    assert.match(errors[0].error.message, /payload\[1\]: reading\.time 2026-01-05T10:10:00\.000Z is before the last reading \(2026-01-05T10:30:00\.000Z\) of main 1-0:1\.8\.0/);
    assert.deepEqual(errors[0].payload, input, 'Catch gets the input message unchanged');
    assert.deepEqual(records().map((r) => [r.meter, r.value]), [['sub', 10]]);
    assert.equal(outs[0].topic, 'both');
    // The refused reading left the state alone: the next good reading completes the window.
    await send({ payload: kwh(T0 + 60 * MIN, 101) });
    assert.deepEqual(records().map((r) => [r.meter, r.from, r.value]), [['sub', T0, 10], ['main', T0 + 30 * MIN, 1]]);
    await send({ payload: 'nonsense' });
    assert.match(errors[1].error.message, /payload must be a reading/);
  });

  it('keeps its state across a restart: the next reading completes the window', async () => {
    await load();
    await send({ payload: kwh(T0, 100) }, { payload: kwh(T0 + 40 * MIN, 102) });
    assert.equal(fs.existsSync(stateFile()), false, 'writes are debounced');
    await helper.unload();
    const saved = JSON.parse(fs.readFileSync(stateFile(), 'utf8'));
    assert.equal(saved.series[0].last.value, 102, 'close writes the state');
    assert.equal(saved.series[0].open.value, 2);
    await load();
    await send({ payload: kwh(T0 + 60 * MIN, 103.5) });
    assert.deepEqual(records(), [{ meter: 'main', obis: '1-0:1.8.0', from: T0, to: T0 + 60 * MIN, value: 3.5, unit: 'kWh', quality: 0 }]);
  });

  it('writes the state within a second of a change', async () => {
    await load();
    await send({ payload: kwh(T0, 100) });
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(JSON.parse(fs.readFileSync(stateFile(), 'utf8')).series[0].last.value, 100);
    assert.deepEqual(fs.readdirSync(path.dirname(stateFile())), ['consumption-cons.json'], 'no temporary file left');
  });

  it('warns about a corrupt state file naming it, and starts afresh', async () => {
    fs.mkdirSync(path.dirname(stateFile()), { recursive: true });
    fs.writeFileSync(stateFile(), '{"version":1,"series":[{"meter":');
    await load();
    const warned = helper.log().args.map((a: any[]) => a[0]).filter((e: any) => e.level === 30 && String(e.msg).includes(stateFile()));
    assert.equal(warned.length, 1, 'one warning naming the file');
    await send({ payload: kwh(T0, 100) }, { payload: kwh(T0 + 60 * MIN, 101) });
    assert.deepEqual(records().map((r) => r.value), [1]);
    assert.equal(errors.length, 0);
  });

  it('refuses a bad configuration', async () => {
    await load({ interval: '1.5d' });
    await send({ payload: kwh(T0, 1) });
    assert.equal(outs.length, 0);
    const logged = helper.log().args.map((a: any[]) => a[0]).filter((e: any) => e.level === 20 && /interval/.test(String(e.msg)));
    assert.equal(logged.length, 1);
  });
});
