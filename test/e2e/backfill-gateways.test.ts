// Simulated outages through the shipped EMS (real Node-RED, flows/ems.json) for the meters read through a
// gateway or platform: a meter behind a G13 gateway (its load profile), a LoRaWAN-platform meter (the
// platform's uplink history) and a Modbus meter keeping a register log (built-in profile ems-logging-meter).
// Each is defined through the API, polled, made unreadable by its simulator's fault and brought back: the
// EMS then reads the meter's memory, the readings of the outage come back with their own times and the
// BACKFILLED flag, GET /api/meters/:id/gaps shows the gap closed, and a second outage adds no duplicate.
// The simulators record every second so that the test takes seconds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { G13Simulator } from '../../lib/sim/g13';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { loadProfile } from '../../lib/protocols/modbus/profile';
import { quantityValue } from '../../lib/sim/g13/resources/meter-stored';
import { Quality } from '../../lib/model/quality';
import { loginApi } from './api-client';
import { emsProbes } from './ems-probes';
import { startEms, type RunningEms } from './runtime';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENERGY = '1-0:1.8.0';
/** What the simulated meter recorded at time t (kWh), undefined when it recorded nothing then. */
type Recorded = (t: number) => number | undefined;

describe('backfill after a simulated outage of gateway and platform meters (real Node-RED, flows/ems.json)', () => {
  let g13: G13Simulator;
  let platform: LorawanPlatformSimulator;
  let modbus: ModbusMeterSimulator;
  let platformPort: number;
  let modbusPort: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  const probes = emsProbes(() => ems, () => api);
  const { waitFor, events } = probes;
  const readings = (id: string): Promise<any[]> => probes.readings(id, ENERGY);
  const gaps = async (id: string, from: number, to: number) => {
    const r = await api('GET', `/api/meters/${id}/gaps?obis=${ENERGY}&interval=2s&from=${from}&to=${to}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data as { missing: number; gaps: { from: number; to: number; missing: number }[] };
  };
  const define = async (id: string, def: Record<string, unknown>) => {
    const r = await api('POST', '/api/meters', { _id: id, name: `${id} meter`, folder_id: folder, interval_time: 2, ...def });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };

  /**
   * One outage of `ms` with `fault(on)`: waits for a poll-failed event, checks the outage left missing slots,
   * ends the fault and waits for backfill info event number `backfillsBefore + 1`. Returns the checked window
   * (inside the outage, away from its edges) and that event.
   */
  async function outage(id: string, fault: (on: boolean) => void, ms: number, backfillsBefore: number) {
    fault(true);
    const down = Date.now();
    await waitFor(`a poll-failed event of ${id}`, 15_000, async () => {
      const e = await events(id, 'poll-failed');
      return e.some((x) => Date.parse(x.date) >= down) ? e : undefined;
    });
    await sleep(ms);
    const window = { from: down + 2000, to: Date.now() - 1000 };
    const before = await gaps(id, window.from, window.to);
    assert.ok(before.missing >= 1, `the outage of ${id} left missing slots: ${JSON.stringify(before)}`);
    fault(false);
    const done = await waitFor(`backfill event ${backfillsBefore + 1} of ${id}`, 20_000, async () => {
      const e = (await events(id, 'backfill')).filter((x) => x.level === 'info');
      return e.length > backfillsBefore ? e[0] : undefined;
    });
    return { window, event: done };
  }

  /** The gap closes, and every reading of the window is BACKFILLED, a record of the meter's memory at its own time. */
  async function checkBackfilled(id: string, window: { from: number; to: number }, recorded: Recorded) {
    const closed = await waitFor(`the gap of ${id} closed`, 10_000, async () => {
      const g = await gaps(id, window.from, window.to);
      return g.missing === 0 ? g : undefined;
    });
    assert.deepEqual(closed.gaps, []);
    const rows = await readings(id);
    const filled = rows.filter((r) => r.time >= window.from && r.time < window.to);
    assert.ok(filled.length >= 2, `readings of ${id} in the outage: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => (r.quality & Quality.BACKFILLED) !== 0), `every reading of the outage is backfilled: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => r.time % 1000 === 0), `at the meter's own record times (whole seconds), not the poll time: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r, i) => i === 0 || r.value >= filled[i - 1].value), `the counter rises through the outage: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => r.unit === 'kWh'), JSON.stringify(filled[0]));
    for (const r of filled) {
      const kept = recorded(r.time);
      assert.ok(kept !== undefined && Math.abs(r.value - kept) < 1e-6, `${id} at ${r.time}: ${r.value} is what the meter recorded then (${kept})`);
    }
    return filled;
  }

  /** Polled readings, two outages with their backfills, no duplicate; returns the first backfill event. */
  async function twoOutages(id: string, fault: (on: boolean) => void, recorded: Recorded) {
    await waitFor(`two polled readings of ${id}`, 15_000, async () => ((await readings(id)).length >= 2 ? true : undefined));
    const first = await outage(id, fault, 4000, 0);
    assert.match(first.event.event, new RegExp(`^backfill: ${id}: \\d+ readings from \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d to \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`));
    assert.equal(first.event.meter_name, `${id} meter`);
    assert.ok(first.event.value >= 2, `the backfill stored readings: ${JSON.stringify(first.event)}`);
    const inFirst = await checkBackfilled(id, first.window, recorded);

    const second = await outage(id, fault, 4000, 1);
    await checkBackfilled(id, second.window, recorded);
    const again = await readings(id);
    const key = (r: any) => [r.time, r.value, r.quality];
    assert.deepEqual(again.filter((r) => r.time >= first.window.from && r.time < first.window.to).map(key), inFirst.map(key), 'the first outage\'s readings unchanged');
    assert.equal(new Set(again.map((r) => r.time)).size, again.length, 'one reading per time');
    const status = await api('GET', `/api/polling?meter=${id}`);
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.data[0].failures, 0, `backfills are not polls: ${JSON.stringify(status.body.data)}`);
    return first.event;
  }

  before(async () => {
    g13 = new G13Simulator({ users: [{ name: 'ems', password: 'emsread1', admin: false, access: { ABB_8: 'view' } }] });
    await g13.listen(0, '127.0.0.1');
    // A load profile of the energy import every second (a real gateway accepts 60 s and more); no other channel.
    const abb8 = g13.gateway.meter('ABB_8')!;
    abb8.lpConfig = [[1, 1, 3000], ...Array.from({ length: 7 }, () => [900, 2, 0] as [number, number, number])];
    abb8.erased.lp = Date.now();
    platform = new LorawanPlatformSimulator({ uplinkMs: 1000 });
    platformPort = await platform.listen(0);
    // ems-logging-meter as built in, its register log recording every second instead of every 15 minutes.
    const logging = loadProfile('ems-logging-meter');
    modbus = new ModbusMeterSimulator({ units: [{ unit: 1, profile: { ...logging, log: { ...logging.log!, intervalSeconds: 1 } } }] });
    modbusPort = await modbus.listen(0);
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'Gateway backfill plant' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });

  after(async () => {
    await ems?.stop();
    await g13?.close();
    await platform?.close();
    await modbus?.close();
  });

  it('G13: the meter\'s load profile fills the outage, the gap closes, a second outage adds no duplicate', async () => {
    await define('bf-g13', { protocol: 'g13', ip_address: '127.0.0.1', port: Number(new URL(g13.url).port), connection_address: 'ABB_8', password: 'ems:emsread1', profile: g13.fingerprint256 });
    const abb8 = g13.gateway.meter('ABB_8')!;
    await twoOutages('bf-g13', (on) => g13.setMeterOffline('ABB_8', on), (t) => Number(quantityValue(abb8, 1, t).toFixed(3)) / 1000);
  });

  it('LoRaWAN platform: the platform\'s uplink history fills the outage, the gap closes, a second outage adds no duplicate', async () => {
    await define('bf-lora', { protocol: 'lorawan-platform', ip_address: '127.0.0.1', port: platformPort, profile: '/internal/commonInternal.jsp', password: 'karly:123456', number_meter: '8cf9572000010103' });
    const archive = platform.platform.byEui('8cf9572000010103')!.id;
    // Uplinks at the platform's ms; it reports their times in whole seconds.
    const uplinkAt = (t: number) => platform.platform.records.find((u) => u.archive === archive && Math.floor(u.time / 1000) * 1000 === t);
    await twoOutages('bf-lora', (on) => platform.setOffline(on), (t) => uplinkAt(t)?.reading.toNumber());
    assert.ok(platform.requests.some((r) => r.method === 'getMeterReadings'), 'the history was read');
  });

  it('Modbus (ems-logging-meter): the register log fills the outage, the gap closes, a second outage adds no duplicate', async () => {
    await define('bf-modbus', { protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: modbusPort, connection_address: '1', profile: 'ems-logging-meter', waiting_time: 300 });
    const logged = (t: number) => modbus.logRecords(1).find((rec) => rec.time === t);
    await twoOutages('bf-modbus', (on) => (on ? modbus.setFault(1, { kind: 'dead' }) : modbus.clearFault(1)), (t) => { const rec = logged(t); return rec && rec.raw[0] / 1000; });
  });
});
