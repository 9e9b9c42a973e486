import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import platformNode from '../../nodes/lorawan-platform/lorawan-platform';
import { Quality, type Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const EUI = '8cf9572000010103'; // the seed's electricity meter, 24 kWh a day

/** The next message at `out` or at the Catch helper `err` (as { error }), or a failure naming what was awaited. */
function answer(what: string, ms = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const out = helper.getNode('out');
    const err = helper.getNode('err');
    const finish = (v: unknown, e?: Error) => {
      clearTimeout(t);
      out.removeListener('input', onOut);
      err.removeListener('input', onErr);
      if (e) reject(e); else resolve(v);
    };
    const onOut = (m: any) => finish(m);
    const onErr = (m: any) => finish({ error: m.error });
    const t = setTimeout(() => finish(undefined, new Error(`no ${what} within ${ms} ms`)), ms);
    out.on('input', onOut);
    err.on('input', onErr);
  });
}

describe('ems-lorawan-platform backfill from the platform\'s meter history', () => {
  let sim: LorawanPlatformSimulator;
  let now: number;
  const start = Date.UTC(2026, 2, 2, 8, 7, 0);
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  async function setup(uplinkMs = 15 * 60_000) {
    now = start;
    sim = new LorawanPlatformSimulator({ now: () => now, uplinkMs });
    const port = await sim.listen(0);
    const flow: any[] = [
      { id: 't', type: 'tab' },
      { id: 'n', z: 't', type: 'ems-lorawan-platform', server: '', operation: 'poll', params: '', wires: [['out']] },
      { id: 'out', z: 't', type: 'helper' },
      { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['err']] },
      { id: 'err', z: 't', type: 'helper' },
    ];
    await helper.load([platformNode] as any, flow);
    return { _id: 'elec-1', name: 'electricity', protocol: 'lorawan-platform', ip_address: '127.0.0.1', port, profile: '', number_meter: EUI, password: 'karly:123456' };
  }

  async function send(meter: Record<string, unknown>, span?: { from: number; to: number }) {
    const got = answer(span ? 'backfill answer' : 'poll answer');
    const msg: Record<string, unknown> = { topic: 'elec-1', meter, poll: { id: 'p3', meter: 'elec-1', due: now, started: now, ...(span ? { kind: 'backfill' } : {}) } };
    if (span) msg.backfill = { ...span };
    helper.getNode('n').receive(msg);
    return got;
  }

  /** The uplinks the platform kept for the meter in (from, to]. */
  function kept(from: number, to: number) {
    const a = sim.platform.byEui(EUI)!;
    return sim.platform.records.filter((r) => r.archive === a.id && r.time > from && r.time <= to).sort((x, y) => x.time - y.time);
  }

  it('a simulated outage: the uplinks kept in the gap come back with their own times, BACKFILLED, the same on repeat', async () => {
    const meter = await setup();
    now += 3_600_000;
    const ok = await send(meter);
    assert.equal(ok.error, undefined, ok.error?.message);
    const outageFrom = now;
    sim.setOffline(true);
    now += 2 * 3_600_000;
    const failed = await send(meter);
    assert.match(failed.error.message, /elec-1.*did not answer/);
    sim.setOffline(false);
    now += 60_000;
    const span = { from: outageFrom, to: now };
    const msg = await send(meter, span);
    assert.equal(msg.error, undefined, msg.error?.message);
    const uplinks = kept(span.from, span.to);
    assert.equal(uplinks.length, 8, 'the platform kept eight 15-minute uplinks in the gap');
    const rows = msg.payload as Reading[];
    assert.deepEqual(rows.map((r) => r.time), uplinks.map((u) => u.time), 'each reading has its uplink\'s own time');
    assert.deepEqual(rows.map((r) => r.value), uplinks.map((u) => u.reading.toNumber()));
    assert.ok(rows.every((r) => r.meter === 'elec-1' && r.obis === '1-0:1.8.0' && r.unit === 'kWh' && r.quality === Quality.BACKFILLED));
    assert.equal(msg.backfill.truncated, false);
    assert.equal(msg.poll.id, 'p3');
    const again = await send(meter, span);
    assert.deepEqual(again.payload, msg.payload, 'a second backfill gives the same readings');
  });

  it('a span beyond the cap: the newest 10,000 uplinks, in pages, and it says truncated', async () => {
    const meter = await setup(60_000);
    for (let day = 0; day < 8; day++) { now += 86_400_000; sim.platform.advance(); } // 11,520 one-minute uplinks
    const span = { from: start, to: now };
    const msg = await send(meter, span);
    assert.equal(msg.error, undefined, msg.error?.message);
    const rows = msg.payload as Reading[];
    const uplinks = kept(span.from, span.to);
    assert.equal(uplinks.length, 11_520);
    assert.equal(rows.length, 10_000);
    assert.equal(msg.backfill.truncated, true);
    assert.equal(rows[rows.length - 1].time, uplinks[uplinks.length - 1].time, 'the newest uplink is kept');
    assert.equal(rows[0].time, uplinks[uplinks.length - 10_000].time, 'the oldest part is dropped');
    assert.ok(msg.lorawanPlatform.requests <= 15, `${msg.lorawanPlatform.requests} getMeterReadings pages`);
  });
});
