import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import g13 from '../../nodes/g13/g13';
import { G13Simulator } from '../../lib/sim/g13';
import { quantityValue } from '../../lib/sim/g13/resources/meter-stored';
import { Quality, type Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

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

describe('ems-g13 backfill from the meter\'s load profile (simulated gateway)', () => {
  let sim: G13Simulator;
  let now: number;
  const start = Date.UTC(2026, 2, 2, 8, 7, 0);
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(async () => {
    now = start;
    sim = new G13Simulator({ tls: false, users: [{ name: 'admin', password: 'secret1', admin: true }], clock: () => now });
    await sim.listen(0, '127.0.0.1');
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'n1', z: 'tab', type: 'ems-g13', gateway: '', operation: 'values', wires: [['out']] },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await helper.load([g13], flow);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  const meterDef = (serial: string) => ({
    _id: `ems-${serial}`, folder_id: 'f', protocol: 'g13', ip_address: '127.0.0.1', port: Number(new URL(sim.url).port),
    connection_address: serial, password: 'admin:secret1', profile: 'plain',
  });

  /** Sends an EMS poll message (a backfill when span is given); resolves the answer, or the caught error as { error }. */
  async function send(serial: string, span?: { from: number; to: number }): Promise<any> {
    const got = answer(span ? 'backfill answer' : 'poll answer');
    const msg: Record<string, unknown> = { topic: `ems-${serial}`, meter: meterDef(serial), poll: { id: 'p9', meter: `ems-${serial}`, due: now, started: now } };
    if (span) { msg.backfill = { ...span }; (msg.poll as Record<string, unknown>).kind = 'backfill'; }
    helper.getNode('n1').receive(msg);
    return got;
  }

  /** What the simulated meter's load profile holds for (from, to]: [obis, time, value] per channel with an OBIS code. */
  function recorded(serial: string, from: number, to: number): Map<string, number> {
    const m = sim.gateway.meter(serial)!;
    const obisOf: Record<number, [string, number]> = { 1: ['1-0:1.8.0', 1000], 2: ['1-0:2.8.0', 1000], 69: ['1-0:32.7.0', 1], 70: ['1-0:31.7.0', 1], 71: ['1-0:33.7.0', 1], 72: ['1-0:52.7.0', 1], 73: ['1-0:51.7.0', 1], 74: ['1-0:53.7.0', 1] };
    const out = new Map<string, number>();
    for (const [interval, qty, count] of m.lpConfig) {
      if (!count) continue;
      const [obis, div] = obisOf[qty];
      for (let t = Math.floor(from / (interval * 1000)) * interval * 1000 + interval * 1000; t <= to; t += interval * 1000) {
        out.set(`${obis}@${t}`, Number(quantityValue(m, qty, t).toFixed(3)) / div);
      }
    }
    return out;
  }

  it('a simulated outage: the load profile of the gap comes back with its own times, BACKFILLED, the same on repeat', async () => {
    const ok = await send('ABB_8');
    assert.equal(ok.error, undefined, ok.error?.message);
    const outageFrom = now;
    sim.setMeterOffline('ABB_8', true);
    now += 2 * 3_600_000;
    const failed = await send('ABB_8');
    assert.match(failed.error.message, /ems-ABB_8.*500/);
    sim.setMeterOffline('ABB_8', false);
    now += 60_000;
    const span = { from: outageFrom, to: now };
    const msg = await send('ABB_8', span);
    assert.equal(msg.error, undefined, msg.error?.message);
    const rows = msg.payload as Reading[];
    const expected = recorded('ABB_8', span.from, span.to);
    assert.equal(rows.length, expected.size, 'one reading per channel and interval in the gap');
    const energy = rows.filter((r) => r.obis === '1-0:1.8.0');
    assert.equal(energy.length, 8, 'eight 15-minute intervals of channel 1');
    for (const r of rows) {
      const key = `${r.obis}@${r.time}`;
      assert.ok(expected.has(key), `${key} is a load-profile record of the gap`);
      assert.ok(Math.abs(r.value - expected.get(key)!) < 1e-6, `${key}: ${r.value} vs ${expected.get(key)}`);
      assert.equal(r.quality, Quality.BACKFILLED);
      assert.equal(r.meter, 'ems-ABB_8');
    }
    assert.equal(energy[0].unit, 'kWh');
    assert.equal(msg.backfill.truncated, false);
    assert.equal(msg.poll.id, 'p9');
    const again = await send('ABB_8', span);
    assert.deepEqual(again.payload, msg.payload, 'a second backfill gives the same readings');
  });

  it('a span beyond the cap: the newest 10,000 readings, read in pieces, and it says truncated', async () => {
    const m = sim.gateway.meter('ABB_9')!;
    m.lpConfig = [[60, 1, 20000], [900, 2, 0], [3600, 69, 0], [3600, 70, 0], [3600, 71, 0], [3600, 72, 0], [86400, 73, 0], [86400, 74, 0]];
    now += 3_600_000;
    const span = { from: now - 8 * 86_400_000, to: now }; // 11,520 one-minute records
    const msg = await send('ABB_9', span);
    assert.equal(msg.error, undefined, msg.error?.message);
    const rows = msg.payload as Reading[];
    assert.equal(rows.length, 10_000);
    assert.equal(msg.backfill.truncated, true);
    const newest = Math.floor(now / 60_000) * 60_000;
    assert.equal(rows[rows.length - 1].time, newest);
    assert.equal(rows[0].time, newest - 9_999 * 60_000, 'the oldest part is dropped');
    assert.ok(msg.g13.requests >= 2 && msg.g13.requests <= 4, `${msg.g13.requests} load-profile requests`);
  });

  it('a meter whose load profile stores nothing usable answers unsupported, not an error', async () => {
    sim.gateway.meter('ABB_9')!.lpConfig = Array.from({ length: 8 }, () => [900, 1, 0] as [number, number, number]);
    const msg = await send('ABB_9', { from: now - 3_600_000, to: now });
    assert.equal(msg.error, undefined, msg.error?.message);
    assert.deepEqual(msg.payload, []);
    assert.match(msg.backfill.unsupported, /ABB_9 has no load-profile channel/);
  });
});
