import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import modbusClient from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { Quality, type Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const INTERVAL = 900_000;

/** The next message at `out` or at the Catch helper `caught` (as { error }), or a failure naming what was awaited. */
function answer(what: string, ms = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const out = helper.getNode('out');
    const caught = helper.getNode('caught');
    const finish = (v: unknown, err?: Error) => {
      clearTimeout(t);
      out.removeListener('input', onOut);
      caught.removeListener('input', onCaught);
      if (err) reject(err); else resolve(v);
    };
    const onOut = (m: any) => finish(m);
    const onCaught = (m: any) => finish({ error: m.error, caught: m });
    const t = setTimeout(() => finish(undefined, new Error(`no ${what} within ${ms} ms`)), ms);
    out.on('input', onOut);
    caught.on('input', onCaught);
  });
}

function flow(port: number) {
  const bus = (id: string) => ({ id, type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: '300', retries: '0' });
  return [
    { id: 'tab', type: 'tab' },
    bus('bus'),
    { id: 'poller', z: 'tab', type: 'ems-modbus-meter', client: 'bus', unit: '1', profile: 'ems-logging-meter', meterId: 'logger', interval: '0', wires: [['out']] },
    { id: 'm1', z: 'tab', type: 'ems-modbus-meter', client: 'bus', unit: '1', profile: 'ems-logging-meter', meterId: 'logger', interval: '0', wires: [['out']] },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
}

describe('ems-modbus-meter backfill from the meter\'s register log', () => {
  let sim: ModbusMeterSimulator;
  let port: number;
  let now: number;
  const start = Date.UTC(2026, 2, 2, 8, 7, 0);
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(async () => {
    now = start;
    // Behind a TCP gateway: a unit that is out answers exception 0x0B (gateway target failed to respond).
    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'ems-logging-meter' }, { unit: 2, profile: 'eastron-sdm630' }], clock: () => now, unknownUnit: 'gateway-exception' });
    port = await sim.listen(0);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  async function backfill(node: string, span: { from: number; to: number }, extra: Record<string, unknown> = {}) {
    const got = answer('backfill answer');
    helper.getNode(node).receive({ topic: 'logger', backfill: { ...span }, poll: { id: 'p1', kind: 'backfill' }, ...extra });
    const m = await got;
    if (m.error) throw new Error(`backfill failed: ${m.error.message}`);
    return m;
  }

  it('a simulated outage: the gap\'s records come back with their own times, BACKFILLED, the same on repeat', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port));
    now += 3 * INTERVAL;
    const before = answer('poll before the outage');
    helper.getNode('poller').receive({ topic: 'logger' });
    assert.ok((await before).payload.length > 0);
    const outageFrom = now;
    sim.setFault(1, { kind: 'dead' });
    now += 2 * 3_600_000; // eight 15-minute intervals missed
    const failed = answer('the poll during the outage to fail');
    helper.getNode('poller').receive({ topic: 'logger' });
    assert.match((await failed).error.message, /logger.*exception 11/);
    sim.clearFault(1);
    now += 60_000;
    const span = { from: outageFrom, to: now };
    const msg = await backfill('m1', span);
    const recorded = sim.logRecords(1).filter((r) => r.time > span.from && r.time <= span.to);
    assert.equal(recorded.length, 8, 'the simulator recorded eight intervals in the gap');
    const rows = msg.payload as Reading[];
    assert.equal(rows.length, 8 * 4, 'four values per record');
    assert.deepEqual([...new Set(rows.map((r) => r.time))], recorded.map((r) => r.time), 'each reading has its record\'s own time');
    for (const rec of recorded) {
      const at = rows.filter((r) => r.time === rec.time);
      assert.deepEqual(at.map((r) => r.obis).sort(), ['1-0:1.8.0', '1-0:1.8.1', '1-0:1.8.2', '1-0:2.8.0']);
      assert.equal(at.find((r) => r.obis === '1-0:1.8.0')!.value, rec.raw[0] / 1000, 'Wh in the log, kWh in the reading');
    }
    assert.ok(rows.every((r) => (r.quality! & Quality.BACKFILLED) !== 0 && r.meter === 'logger' && r.unit === 'kWh'));
    const imports = rows.filter((r) => r.obis === '1-0:1.8.0').map((r) => r.value);
    assert.ok(imports.every((v, i) => i === 0 || v >= imports[i - 1]), 'the energy register never falls');
    assert.equal(msg.backfill.truncated, false);
    assert.equal(msg.poll.id, 'p1', 'the poll id comes back');
    const again = await backfill('m1', span);
    assert.deepEqual(again.payload, msg.payload, 'a second backfill gives the same readings');
  });

  it('the first record after start is flagged estimated (its interval was not measured whole)', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port));
    now += 2 * INTERVAL;
    const msg = await backfill('m1', { from: start - INTERVAL, to: now });
    const times = [...new Set((msg.payload as Reading[]).map((r) => r.time))];
    assert.equal(times.length, 2);
    const first = (msg.payload as Reading[]).filter((r) => r.time === times[0]);
    assert.ok(first.every((r) => (r.quality! & Quality.ESTIMATED) !== 0 && (r.quality! & Quality.BACKFILLED) !== 0));
    assert.ok((msg.payload as Reading[]).filter((r) => r.time === times[1]).every((r) => r.quality === Quality.BACKFILLED));
  });

  it('a span beyond the cap: the newest 10,000 readings, in bounded requests, and it says truncated', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port));
    now += 30 * 86_400_000; // 2,880 records = 11,520 readings
    sim.logRecords(1); // the meter recorded them as the month went by (the simulated jump records them here, not inside a request)
    const msg = await backfill('m1', { from: start, to: now });
    const rows = msg.payload as Reading[];
    assert.equal(rows.length, 10_000);
    assert.equal(msg.backfill.truncated, true);
    const records = sim.logRecords(1);
    assert.equal(rows[rows.length - 1].time, records[records.length - 1].time, 'the newest record is kept');
    assert.equal(rows[0].time, records[records.length - 2500].time, 'the oldest part is dropped');
    // The count, two binary searches over the 3,000-record ring, then 11 records (121 registers) per request.
    const bound = 1 + 2 * Math.ceil(Math.log2(3001)) + Math.ceil(2500 / 11);
    assert.ok(msg.meter.requests <= bound, `${msg.meter.requests} requests for 2,500 records (at most ${bound})`);
  });

  it('a profile without a log answers at once: empty, unsupported, not an error', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port));
    const msg = await backfill('m1', { from: start, to: now + INTERVAL }, { unit: 2, profile: 'eastron-sdm630' });
    assert.deepEqual(msg.payload, []);
    assert.match(msg.backfill.unsupported, /eastron-sdm630.*no register log/);
    assert.equal(sim.stats.units[2].requests, 0, 'nothing was asked of the meter');
  });

  it('a bad msg.backfill is an error naming the field', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port));
    const caught = answer('the error');
    helper.getNode('m1').receive({ topic: 'logger', backfill: { from: 'yesterday', to: now } });
    assert.match((await caught).error.message, /msg\.backfill\.from must be a time in epoch ms, got "yesterday"/);
  });
});
