import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reading } from '../../lib/model';
import { openStore } from '../../lib/store';
import { fromLocal, toLocal } from '../../lib/model/time';
import type { Tariff } from '../../lib/tariff/types';
import { loginApi } from './api-client';
import { startEms, type RunningEms } from './runtime';

const METER = 'dos-meter';
const ZONE = 'Europe/Berlin';
const FROM = fromLocal({ year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, ZONE);
const TO = fromLocal({ year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, ZONE);
/**
 * The most a heartbeat may take while a long request runs (the issue: "within 200 ms"), over what the
 * same heartbeat takes on this machine with nothing else asked: on a loaded CI machine an idle heartbeat
 * may itself take tens of ms, and that is the machine, not the EMS.
 */
const HEARTBEAT_MAX_MS = 200;
let idleHeartbeatMs = 0;
const heartbeatLimit = () => HEARTBEAT_MAX_MS + Math.max(0, idleHeartbeatMs - 50);

const DAY = [{ from: '00:00', to: '07:00', period: 'valley' }, { from: '07:00', to: '19:00', period: 'peak' }, { from: '19:00', to: '24:00', period: 'valley' }];
/** Energy only: peak 07-19 local at 0.40, valley at 0.20 EUR/kWh, every day. */
const TARIFF: Tariff = {
  id: 'dos-tou', name: 'DOS day/night', currency: 'EUR', timeZone: ZONE,
  versions: [{
    validFrom: '2026-01-01',
    energy: [{
      name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'tou',
      seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: { weekday: DAY, saturday: DAY, sunday: DAY } }],
      rates: { peak: '0.40', valley: '0.20' },
    }],
  }],
};

/**
 * A year of 15-minute readings of 1-0:1.8.0 (35,041 from 2026-01-01 to 2027-01-01 local): 1 kWh per
 * quarter starting in a peak hour, 0.25 kWh otherwise. `cents` is what the tariff makes of them.
 */
function yearOfReadings(): { readings: Reading[]; cents: number } {
  const readings: Reading[] = [];
  let value = 5000;
  let cents = 0;
  for (let t = FROM; t <= TO; t += 15 * 60_000) {
    readings.push({ meter: METER, obis: '1-0:1.8.0', time: t, value, unit: 'kWh' });
    if (t === TO) break;
    const h = toLocal(t, ZONE).hour;
    const peak = h >= 7 && h < 19;
    value += peak ? 1 : 0.25;
    cents += peak ? 40 : 5;
  }
  return { readings, cents };
}

/**
 * One request or device must not take the EMS down (issue "Safe by default"): long-period reports and
 * bills are refused (400) or answered while a heartbeat request, sent every 50 ms, keeps answering
 * within HEARTBEAT_MAX_MS; the yearly bill over 15-minute data completes with the right total.
 */
describe('no single request freezes the EMS (real Node-RED)', () => {
  let ems: RunningEms;
  let dir: string;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let token = '';
  let cents = 0;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dos-e2e-'));
    const readingsFile = path.join(dir, 'readings.sqlite');
    const store = openStore({ backend: 'sqlite', path: readingsFile });
    const year = yearOfReadings();
    assert.equal(year.readings.length, 35_041);
    cents = year.cents;
    await store.write(year.readings);
    await store.close();
    ems = await startEms({ EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_SQLITE_PATH: readingsFile, EMS_TIME_ZONE: ZONE, EMS_MODBUS_PORT: '1' });
    api = await loginApi(ems.url, 'admin', 'ems-admin');
    const login = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'ems-admin' }) });
    token = ((await login.json()) as any).data.access_token;
    const created = [
      await api('POST', '/api/tariffs', { tariff: TARIFF }),
      await api('POST', '/api/folders', { name: 'DOS site' }),
    ];
    for (const c of created) assert.equal(c.status, 201, JSON.stringify(c.body));
    const folder = created[1].body.data._id;
    const steps = [
      await api('POST', '/api/meters', { _id: METER, folder_id: folder, name: 'DOS meter', protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '1', connection_address: '1' }),
      await api('POST', '/api/objects', { name: 'DOS incomer', meter_id: METER, tariff_id: TARIFF.id }),
      await api('POST', '/api/cost-centers', { id: 'dos-cc', name: 'DOS cost center', tariffs: { electricity: TARIFF.id }, meters: [{ id: METER, energyType: 'electricity' }] }),
    ];
    for (const c of steps) assert.equal(c.status, 201, JSON.stringify(c.body));
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await fetch(`${ems.url}/api/auth/session`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
      await r.arrayBuffer();
      idleHeartbeatMs = Math.max(idleHeartbeatMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await ems?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `path` while GET /api/auth/session goes out every 50 ms; answers the long request and the slowest heartbeat sent meanwhile. */
  async function withHeartbeat(pathAndQuery: string): Promise<{ status: number; body: any; heartbeatMax: number; heartbeats: number }> {
    const beats: Promise<number>[] = [];
    const beat = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await fetch(`${ems.url}/api/auth/session`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
      await r.arrayBuffer();
      assert.equal(r.status, 200);
      return performance.now() - t0;
    };
    let running = true;
    const timer = setInterval(() => { if (running) beats.push(beat()); }, 50);
    beats.push(beat());
    try {
      const res = await fetch(`${ems.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) });
      const body = await res.json();
      running = false;
      const times = await Promise.all(beats);
      return { status: res.status, body, heartbeatMax: Math.max(...times), heartbeats: times.length };
    } finally {
      running = false;
      clearInterval(timer);
    }
  }

  const huge = 'from=1000-01-01&to=9999-12-31';
  const cases: [string, string, number, RegExp | null][] = [
    ['the incident report (month steps over 9000 years)', `/api/reports/tariffs?meter=${METER}&date1=1000-01-01&date2=9999-12-31&step=month`, 400, /^date1 "1000-01-01" is outside the years 1970\.\.2100$/],
    ['a meter bill over 9000 years', `/api/meters/${METER}/bill?${huge}`, 400, /^from "1000-01-01" is outside the years 1970\.\.2100$/],
    ['a cost center bill over 9000 years', `/api/cost-centers/dos-cc/bill?${huge}`, 400, /^from "1000-01-01" is outside the years 1970\.\.2100$/],
    ['a meter bill over two years', `/api/meters/${METER}/bill?from=2025-01-01&to=2027-01-01`, 400, /^to "2027-01-01" is 730 days after from "2025-01-01": bills\.meter allows at most 366 days/],
    ['a report by month over 10 years', `/api/reports/tariffs?meter=${METER}&date1=2017-01-01&date2=2026-12-31&step=month`, 200, null],
    ['a report by day over the year', `/api/reports/tariffs?meter=${METER}&date1=2026-01-01&date2=2026-12-31&step=day`, 200, null],
    ['a report by hour over 93 days', `/api/reports/tariffs?meter=${METER}&date1=2026-03-01&date2=2026-06-01&step=hour`, 200, null],
    ['readings of the year by day', `/api/meters/${METER}/readings?from=2026-01-01&to=2027-01-01&window=1d&fn=delta`, 200, null],
    ['the yearly cost center bill', `/api/cost-centers/dos-cc/bill?from=2026-01-01&to=2027-01-01`, 200, null],
  ];
  for (const [what, url, status, error] of cases) {
    it(`${what}: ${status === 400 ? 'refused' : 'answered'} while the heartbeat keeps answering`, async () => {
      const r = await withHeartbeat(url);
      assert.equal(r.status, status, JSON.stringify(r.body).slice(0, 500));
      if (error) assert.match(r.body.error, error);
      assert.ok(r.heartbeatMax <= heartbeatLimit(), `slowest of ${r.heartbeats} heartbeats took ${Math.round(r.heartbeatMax)} ms (idle ${Math.round(idleHeartbeatMs)} ms)`);
    });
  }

  it('the yearly bill over 15-minute data completes, priced to the cent, while the heartbeat keeps answering', async () => {
    const r = await withHeartbeat(`/api/meters/${METER}/bill?from=2026-01-01&to=2027-01-01`);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    const bill = r.body.data;
    assert.equal(bill.inputs.readings, 35_041);
    assert.equal(bill.totals.total, (cents / 100).toFixed(2));
    assert.equal(bill.totals.energy, (cents / 100).toFixed(2));
    assert.ok(r.heartbeatMax <= heartbeatLimit(), `slowest of ${r.heartbeats} heartbeats took ${Math.round(r.heartbeatMax)} ms (idle ${Math.round(idleHeartbeatMs)} ms)`);
  });
});
