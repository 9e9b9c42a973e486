// Simulated outages through the shipped EMS (real Node-RED, flows/ems.json): an IEC 62056-21 meter and an
// M-Bus meter defined through the API stop answering long enough to miss slots; when they answer again the
// EMS reads their memory (load profile P.01, historic storage numbers), the readings come back with their own
// times and the BACKFILLED flag, GET /api/meters/:id/gaps shows the gap closed, and a second outage and
// recovery adds no duplicate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';
import { Quality } from '../../lib/model/quality';
import { loginApi } from './api-client';
import { emsProbes } from './ems-probes';
import { startEms, type RunningEms } from './runtime';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backfill after a simulated outage (real Node-RED, flows/ems.json)', () => {
  let iec: Iec62056Simulator;
  let mbus: MbusSimulator;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;
  let env: Record<string, string>;

  const { waitFor, readings, events } = emsProbes(() => ems, () => api);
  const gaps = async (id: string, obis: string, from: number, to: number) => {
    const r = await api('GET', `/api/meters/${id}/gaps?obis=${obis}&interval=2s&from=${from}&to=${to}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data as { missing: number; gaps: { from: number; to: number; missing: number }[] };
  };

  /**
   * Runs one outage of `ms` with `fault(on)` and waits for the backfill after it. Returns the checked window
   * (inside the outage, away from its edges) and the backfill's info event.
   */
  async function outage(id: string, obis: string, fault: (on: boolean) => void, ms: number, backfillsBefore: number) {
    fault(true);
    const down = Date.now();
    await waitFor(`a poll-failed event of ${id}`, 20_000, async () => {
      const e = await events(id, 'poll-failed');
      return e.some((x) => Date.parse(x.date) >= down) ? e : undefined;
    });
    await sleep(ms);
    const window = { from: down + 2000, to: Date.now() - 1000 };
    const before = await gaps(id, obis, window.from, window.to);
    assert.ok(before.missing >= 2, `the outage left missing slots: ${JSON.stringify(before)}`);
    fault(false);
    const done = await waitFor(`backfill event ${backfillsBefore + 1} of ${id}`, 40_000, async () => {
      const e = (await events(id, 'backfill')).filter((x) => x.level === 'info');
      return e.length > backfillsBefore ? e[0] : undefined;
    });
    return { window, event: done };
  }

  async function checkBackfilled(id: string, obis: string, window: { from: number; to: number }) {
    // The backfill's readings are written right after its event's answer: wait until the gap is closed.
    const after = await waitFor(`the gap of ${id} closed`, 10_000, async () => {
      const g = await gaps(id, obis, window.from, window.to);
      return g.missing === 0 ? g : undefined;
    });
    assert.deepEqual(after.gaps, []);
    const rows = await readings(id, obis);
    const filled = rows.filter((r) => r.time >= window.from && r.time < window.to);
    assert.ok(filled.length >= 2, `readings in the outage: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => (r.quality & Quality.BACKFILLED) !== 0), `every reading of the outage is backfilled: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => r.time % 1000 === 0), 'at the meter\'s own record times (whole seconds), not the poll time');
    assert.ok(filled.every((r, i) => i === 0 || r.value >= filled[i - 1].value), 'the counter rises through the outage');
    return rows;
  }

  before(async () => {
    iec = new Iec62056Simulator({ meters: [{ address: '12345678', profile: findSimMeter('iskra-mt174')!, password: '00000000', profilePeriodSeconds: 1, speed: 3600 }] });
    const iecPort = await iec.listen(0);
    mbus = new MbusSimulator({ speed: 3600, slaves: [{ primary: 1, sample: findTelegram('slb-cf-integral')!, history: { periodSeconds: 1, count: 120 } }] });
    const mbusPort = await mbus.listen(0);
    env = { EMS_MBUS_HOST: '127.0.0.1', EMS_MBUS_PORT: String(mbusPort), EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' };
    ems = await startEms(env);
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'Backfill plant' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
    const m1 = await api('POST', '/api/meters', { _id: 'bf-iec', name: 'MT174 feeder', folder_id: folder, protocol: 'iec62056-21', ip_address: '127.0.0.1', port: iecPort, connection_address: '12345678', password: '00000000', interval_time: 2, waiting_time: 400 });
    assert.equal(m1.status, 201, JSON.stringify(m1.body));
    const m2 = await api('POST', '/api/meters', { _id: 'bf-mbus', name: 'heat meter', folder_id: folder, protocol: 'mbus', ip_address: '127.0.0.1', port: mbusPort, connection_address: '1', interval_time: 2, waiting_time: 300 });
    assert.equal(m2.status, 201, JSON.stringify(m2.body));
  });

  after(async () => {
    await ems?.stop();
    await iec?.close();
    await mbus?.close();
  });

  it('IEC 62056-21: the load profile fills the outage, the gap closes, a second outage adds no duplicate', async () => {
    const obis = '1-0:1.8.0';
    await waitFor('two polled readings of bf-iec', 20_000, async () => ((await readings('bf-iec', obis)).length >= 2 ? true : undefined));
    const fault = (on: boolean) => iec.meter('12345678').setFault(on ? 'dead' : undefined);
    const first = await outage('bf-iec', obis, fault, 5000, 0);
    assert.match(first.event.event, /^backfill: bf-iec: \d+ readings from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(first.event.meter_name, 'MT174 feeder');
    const rows = await checkBackfilled('bf-iec', obis, first.window);
    const inFirst = rows.filter((r) => r.time >= first.window.from && r.time < first.window.to);
    assert.ok(iec.meter('12345678').stats.profileReads.length >= 1);

    const second = await outage('bf-iec', obis, fault, 5000, 1);
    await checkBackfilled('bf-iec', obis, second.window);
    const again = await readings('bf-iec', obis);
    assert.deepEqual(again.filter((r) => r.time >= first.window.from && r.time < first.window.to), inFirst, 'the first outage\'s readings unchanged');
    assert.equal(new Set(again.map((r) => r.time)).size, again.length, 'one reading per time');
    // The backfills are not polls: the poll status shows no failure now.
    const status = await api('GET', '/api/polling?meter=bf-iec');
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.data[0].failures, 0, JSON.stringify(status.body.data));
    assert.equal(status.body.data[0].last.ok, true);
  });

  it('M-Bus: historic storage numbers fill the outage, the gap closes, a second outage adds no duplicate', async () => {
    const obis = '6-0:1.0.0';
    await waitFor('two polled readings of bf-mbus', 20_000, async () => ((await readings('bf-mbus', obis)).filter((r) => !(r.quality & Quality.HISTORIC)).length >= 2 ? true : undefined));
    const fault = (on: boolean) => { mbus.slaves[0].fault = on ? 'silent' : 'none'; };
    const first = await outage('bf-mbus', obis, fault, 4000, 0);
    assert.match(first.event.event, /^backfill: bf-mbus: \d+ readings from /);
    const rows = await checkBackfilled('bf-mbus', obis, first.window);
    const inFirst = rows.filter((r) => r.time >= first.window.from && r.time < first.window.to);
    assert.ok(mbus.slaves[0].stats.historyReads >= 1);

    const second = await outage('bf-mbus', obis, fault, 5000, 1);
    await checkBackfilled('bf-mbus', obis, second.window);
    const again = await readings('bf-mbus', obis);
    assert.deepEqual(again.filter((r) => r.time >= first.window.from && r.time < first.window.to).map((r) => [r.time, r.value]), inFirst.map((r) => [r.time, r.value]));
    assert.equal(new Set(again.map((r) => r.time)).size, again.length, 'one reading per time');
  });

  it('after an EMS restart, a meter whose newest stored reading is older than 2 intervals is backfilled on its first poll', async () => {
    const obis = '1-0:1.8.0';
    const before = (await events('bf-iec', 'backfill')).filter((x) => x.level === 'info').length;
    const userDir = ems.userDir;
    const stoppedAt = Date.now();
    await ems.stop({ keepUserDir: true });
    await sleep(4000); // the meter keeps recording; nobody polls it
    ems = await startEms(env, userDir);
    api = await loginApi(ems.url);
    await waitFor('a backfill event of bf-iec after the restart', 40_000, async () => {
      const e = (await events('bf-iec', 'backfill')).filter((x) => x.level === 'info');
      return e.length > before ? e : undefined;
    });
    await checkBackfilled('bf-iec', obis, { from: stoppedAt + 1000, to: stoppedAt + 4000 });
  });

  it('GET /api/meters/:id/gaps is bounded and scoped', async () => {
    const tooMany = await api('GET', '/api/meters/bf-iec/gaps?interval=1s&from=-1d');
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.error, /^interval: "1s" cuts from\.\.to into 86400 slots, more than 10000/);
    const bad = await api('GET', '/api/meters/bf-iec/gaps?interval=soon');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^interval: "soon"/);
    assert.equal((await api('GET', '/api/meters/nobody/gaps')).status, 404);
    const ok = await api('GET', '/api/meters/bf-iec/gaps?obis=1-0:1.8.0&from=-10m');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.data.interval, 2000, 'the meter\'s interval_time by default');
  });
});
