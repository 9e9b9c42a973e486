import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signLicense } from '../../lib/ems/license';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';
import { loginApi } from './api-client';
import { DictionaryClient, type DictAnswer, type MeterFields } from './dictionary-client';
import { eventually, freePort, startEms, TEST_LICENSE_KEYS, type RunningEms } from './runtime';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const METER = 'dict-main';
const ADMIN = { login: 'admin', password: 'ems-admin' };

const dayText = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * Hourly registers of METER from yesterday 00:00 UTC up to now: T1 (1-0:1.8.1) +1 kWh in each hour
 * before noon, T2 (1-0:1.8.2) +2 kWh in each hour after; 1-0:1.8.0 = T1 + T2. So yesterday used
 * T1 12 kWh and T2 24 kWh. Voltages and a current at the newest hour for the vector diagram.
 */
function readings(now: number): { rows: Reading[]; newestTotal: number; count: number } {
  const rows: Reading[] = [];
  let t1 = 500;
  let t2 = 700;
  const start = Math.floor(now / DAY) * DAY - DAY;
  const end = Math.floor(now / HOUR) * HOUR;
  let count = 0;
  for (let t = start; t <= end; t += HOUR) {
    rows.push({ meter: METER, obis: '1-0:1.8.1', time: t, value: t1, unit: 'kWh' }, { meter: METER, obis: '1-0:1.8.2', time: t, value: t2, unit: 'kWh' },
      { meter: METER, obis: '1-0:1.8.0', time: t, value: t1 + t2, unit: 'kWh' });
    count++;
    if (new Date(t).getUTCHours() < 12) t1 += 1;
    else t2 += 2;
  }
  for (const [obis, value, unit] of [['1-0:32.7.0', 230, 'V'], ['1-0:52.7.0', 231, 'V'], ['1-0:72.7.0', 229, 'V'], ['1-0:31.7.0', 10, 'A'], ['1-0:13.7.0', 1, '']] as const) {
    rows.push({ meter: METER, obis, time: end, value, unit });
  }
  return { rows, newestTotal: rows.filter((r) => r.obis === '1-0:1.8.0').at(-1)!.value, count };
}

function ok(a: DictAnswer, status = 200): any {
  assert.equal(a.httpStatus, status, JSON.stringify(a.body));
  assert.deepEqual([a.body.status, a.body.error], [status, null], JSON.stringify(a.body));
  return a.body.data;
}

function refused(a: DictAnswer, status: number, error: RegExp): void {
  assert.equal(a.httpStatus, status, JSON.stringify(a.body));
  assert.deepEqual([a.body.status, a.body.data], [status, null]);
  assert.match(String(a.body.error), error);
}

/** A client written from the data dictionary alone drives each of its sections against the shipped EMS (real Node-RED). */
describe('a data dictionary client against the shipped EMS (real Node-RED)', () => {
  let ems: RunningEms;
  let iec: Iec62056Simulator;
  let iecPort = 0;
  let dir: string;
  let client: DictionaryClient;
  let plantId = '';
  const now = Date.now();
  const seeded = readings(now);
  const yesterday = dayText(now - DAY);
  const today = dayText(now);

  before(async () => {
    iec = new Iec62056Simulator({ meters: [{ address: '12345678', profile: findSimMeter('iskra-mt174')!, password: '00000000' }] });
    iecPort = await iec.listen(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dict-'));
    const sqlite = path.join(dir, 'readings.sqlite');
    const store = new SqliteStore({ path: sqlite });
    await store.write(seeded.rows);
    await store.close();
    const deadPort = await freePort(); // nothing listens: polls fail, the stored readings stay
    ems = await startEms({ EMS_SQLITE_PATH: sqlite, EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_TIME_ZONE: 'UTC', EMS_MODBUS_PORT: String(deadPort) });
    // The site the client finds: prepared the REST way (not part of the client).
    const rest = await loginApi(ems.url);
    const plant = await rest('POST', '/api/folders', { name: 'Plant', folder_type: 'site' });
    assert.equal(plant.status, 201, JSON.stringify(plant.body));
    const m = await rest('POST', '/api/meters', {
      _id: METER, name: 'Main feed', folder_id: plant.body.data._id, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: deadPort,
      connection_address: '1', profile: 'eastron-sdm630', interval_time: 86400,
    });
    assert.equal(m.status, 201, JSON.stringify(m.body));
    client = new DictionaryClient(ems.url);
  });

  after(async () => {
    await ems?.stop();
    await iec?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Login: hash -> secret_word and id; key, username, password -> access_token cookie, refresh_token, session; the user', async () => {
    const key = ok(await client.loginKey('dictionary-client'));
    assert.equal(typeof key.secret_word, 'string');
    assert.equal(typeof key.id, 'string');
    const login = await client.login(key.secret_word, ADMIN.login, ADMIN.password);
    const data = ok(login);
    assert.ok(login.cookies.access_token, 'the access_token cookie is set');
    assert.equal(typeof data.refresh_token, 'string');
    assert.ok(data.session);
    refused(await new DictionaryClient(ems.url).login(key.secret_word, ADMIN.login, ADMIN.password), 401, /key/i);
    const me = ok(await client.currentUser()).user;
    assert.deepEqual([typeof me._id, me.login, me.role, me.active], ['string', 'admin', 'admin', true]);
    for (const k of ['name', 'last_active', 'open_page', 'open_folders', 'open_factory']) assert.ok(k in me, `user carries ${k}`);
  });

  it('Poll server: Meter information by list, and one meter by id / _id', async () => {
    const tree = ok(await client.meterInformation(''));
    const plant = tree.find((f: any) => f.name === 'Plant');
    assert.ok(plant, JSON.stringify(tree));
    plantId = plant._id;
    assert.deepEqual([plant.folder_type, plant.parent_id], ['site', null]);
    const one = ok(await client.meterInformation(plantId));
    assert.deepEqual([one._id, one.name, one.child_folders.map((c: any) => c.meter)], [plantId, 'Plant', [METER]]);
    for (const name of ['id', '_id'] as const) {
      const leaf = ok(await client.meterInformationById(METER, name));
      assert.deepEqual([leaf._id, leaf.meter, leaf.name, leaf.parent_id, leaf.folder_type], [METER, METER, 'Main feed', plantId, 'meter']);
      assert.equal(leaf.meter_detail.connection_address, '1');
      assert.ok(!('password' in leaf.meter_detail), 'no password in meter_detail');
    }
    refused(await client.meterInformationById('no-such-meter'), 404, /no-such-meter/);
  });

  let createdId = '';
  const fields: MeterFields = {
    name: 'Dictionary meter', number_meter: '0123456789', connection_address: '17', password: 'meter-pw', ip_address: '127.0.0.1', port: '8000',
    waiting_time: '2000', interval_time: '300', pause_time: '100', package_size: '0', time_difference: '5', periodType: 'daily',
    data_polling_length: '900', days_of_week: '1,2,3,4,5', days_of_month: '',
  };

  it('Poll server: Meter creating/updating with the dictionary\'s fields alone', async () => {
    ok(await client.createMeter(fields), 201);
    const plant = ok(await client.meterInformation(plantId));
    const leaf = plant.child_folders.find((c: any) => c.name === fields.name);
    assert.ok(leaf, 'the new meter hangs in the only folder');
    createdId = leaf._id;
    const d = leaf.meter_detail;
    assert.deepEqual([d.number_meter, d.connection_address, d.port, d.interval_time, d.periodType, d.data_polling_length, d.days_of_week, d.password_set],
      ['0123456789', '17', 8000, 300, 'daily', 900, [1, 2, 3, 4, 5], true]);
    ok(await client.updateMeter(createdId, { interval_time: '600', periodType: 'hourly' }));
    const after = ok(await client.meterInformationById(createdId)).meter_detail;
    assert.deepEqual([after.interval_time, after.periodType, after.number_meter], [600, 'hourly', '0123456789']);
    refused(await client.createMeter({ ...fields, name: 'Bad', periodType: 'yearly' }), 400, /periodType "yearly"/);
    refused(await client.updateMeter(createdId, { port: 'http' }), 400, /port "http"/);
  });

  it('Poll server: Meter deleting by Query: id', async () => {
    ok(await client.deleteMeter(createdId));
    refused(await client.meterInformationById(createdId), 404, new RegExp(createdId));
    refused(await client.deleteMeter(createdId), 404, new RegExp(createdId));
  });

  it('Poll server: Meter data polling: a meter defined by the dictionary\'s fields is polled, its data served (meter_id, date, data)', async () => {
    // The command and response frames travel between the poll server and the meter, not over this API;
    // the client sees their result: the meter's data in the data table.
    ok(await client.createMeter({ ...fields, name: 'Optical meter', connection_address: '12345678', password: '00000000', port: String(iecPort), interval_time: '2', periodType: 'interval', data_polling_length: '0', days_of_week: '' }), 201);
    const polled = await eventually(30_000, async () => {
      const data = ok(await client.dataTable({ date1: today, type: 'energy', limit: '100' }));
      const mine = data.meters.find((m: any) => m.name === 'Optical meter');
      return mine?.rows.some((r: any) => r.param_name === '1-0:1.8.0') ? mine : undefined;
    }).catch((err: Error) => { throw new Error(`the optical meter's data: ${err.message}`); });
    const total = polled.rows.find((r: any) => r.param_name === '1-0:1.8.0');
    assert.ok(Number(total.value) >= 502.853 && Number(total.value) < 503, JSON.stringify(total));
    assert.ok(Math.abs(Date.parse(total.date) - Date.now()) < 60_000, `polled just now: ${total.date}`);
    ok(await client.deleteMeter(polled.meter));
  });

  for (const list of ['electricity', 'calculation']) {
    it(`Accounting objects: ${list} model objects information, creating/updating, deleting`, async () => {
      const data = { type: 'feeder', name: `${list} feeder`, meter_id: METER, date: ['2026-01-15'], tn1: { ratio: '10000/100' }, tn2: { ratio: '10000/100' }, tt: { ratio: '200/5' } };
      ok(await client.createObject(list, data), 201);
      const listed = ok(await client.objects(list));
      const obj = listed.find((o: any) => o.name === data.name);
      assert.ok(obj, JSON.stringify(listed));
      for (const k of ['child_objects', 'createdAt', 'updatedAt', 'parameters', 'type', '_id']) assert.ok(k in obj, `object carries ${k}`);
      assert.ok(!listed.some((o: any) => o.name !== data.name && o.name.endsWith('feeder')), 'only this model\'s objects');
      const one = ok(await client.object(obj._id));
      assert.deepEqual([one.type, one.meter_id, one.tt.ratio, Array.isArray(one.block), typeof one.obis, Array.isArray(one.location)], ['feeder', METER, '200/5', true, 'object', true]);
      ok(await client.updateObject(obj._id, { name: `${list} feeder 2` }));
      assert.equal(ok(await client.object(obj._id)).name, `${list} feeder 2`);
      refused(await client.updateObject(obj._id, { meter_id: 'ghost-meter' }), 400, /ghost-meter/);
      ok(await client.deleteObject(obj._id));
      refused(await client.object(obj._id), 404, new RegExp(obj._id));
    });
  }

  /** The one meter's part of a folder answer (the client names no meter: the answer covers the user's folders). */
  function meterPart(data: any): any {
    assert.ok(Array.isArray(data.meters), JSON.stringify(data).slice(0, 300));
    const mine = data.meters.find((m: any) => m.meter === METER);
    assert.ok(mine, `${METER} is in the answer`);
    assert.deepEqual(mine.location, ['Plant']);
    return mine;
  }

  it('Dashboard data: date1, date2, type, limit -> param_name, value, date, location', async () => {
    const mine = meterPart(ok(await client.dashboard({ date1: yesterday, date2: today, type: 'energy', limit: '10' })));
    const total = mine.rows.find((r: any) => r.param_name === '1-0:1.8.0');
    assert.equal(Number(total.value), seeded.newestTotal);
    assert.ok(!Number.isNaN(Date.parse(total.date)));
    refused(await client.dashboard({ type: 'watts' }), 400, /type "watts"/);
  });

  it('Graphics and data\'s data: the series of the period, oldest first', async () => {
    const mine = meterPart(ok(await client.graphics({ date1: yesterday, date2: today, type: 'energy', limit: '100000' })));
    const total = mine.rows.filter((r: any) => r.param_name === '1-0:1.8.0');
    assert.equal(total.length, seeded.count);
    assert.ok(Date.parse(total[0].date) < Date.parse(total.at(-1).date));
    refused(await client.graphics({ date1: today, date2: yesterday }), 400, /date1 .* is after date2/);
  });

  it('Vector diagram data: date1, date2, limit -> the phasors', async () => {
    const mine = meterPart(ok(await client.vector({ date1: yesterday, date2: today, limit: '6' })));
    assert.deepEqual(mine.rows.map((r: any) => [r.param_name, r.value]), [['U1', '230'], ['U2', '231'], ['U3', '229'], ['I1', '10']]);
  });

  it('Data table data: newest first, at most limit rows', async () => {
    const mine = meterPart(ok(await client.dataTable({ date1: yesterday, date2: today, type: 'energy', limit: '3' })));
    assert.equal(mine.rows.length, 3);
    assert.ok(Date.parse(mine.rows[0].date) >= Date.parse(mine.rows[2].date));
    refused(await client.dataTable({ limit: '0' }), 400, /limit "0"/);
  });

  it('Reports data: date1, date2, step -> first..fourth_tariff', async () => {
    const mine = meterPart(ok(await client.reports({ date1: yesterday, date2: yesterday, step: 'day' })));
    assert.deepEqual([mine.rows.length, mine.totals.first_tariff, mine.totals.second_tariff, mine.totals.third_tariff], [1, '12', '24', '0']);
    refused(await client.reports({ step: 'fortnight' }), 400, /step "fortnight"/);
  });

  let userId = '';
  it('Settings: User creating/updating, list information, deleting by _id', async () => {
    const created = ok(await client.createUser({ name: 'Dora Dict', login: 'dora', password: 'orchid-lantern-41', open_page: 'dashboard', open_folders: plantId, open_factory: 'Plant', role: 'viewer' }), 201);
    userId = created._id;
    assert.equal(typeof userId, 'string');
    const list = ok(await client.users());
    const dora = list.find((u: any) => u.login === 'dora');
    assert.deepEqual([dora._id, dora.name, dora.open_folders, dora.role, 'password' in dora], [userId, 'Dora Dict', [plantId], 'viewer', false]);
    const one = ok(await client.user(userId));
    assert.deepEqual([one.login, one.open_page, one.open_factory], ['dora', 'dashboard', 'Plant']);
    ok(await client.updateUser(userId, { name: 'Dora D.' }));
    assert.equal(ok(await client.user(userId)).name, 'Dora D.');
    refused(await client.createUser({ name: 'X', login: 'x', password: 'short', open_page: '', open_folders: '', open_factory: '', role: 'viewer' }), 400, /password/);
    refused(await client.updateUser(userId, { role: 'emperor' }), 400, /role "emperor"/);
    ok(await client.deleteUser(userId));
    refused(await client.user(userId), 404, new RegExp(userId));
  });

  it('Settings: License information and creating/updating by a license file', async () => {
    const before = ok(await client.license());
    for (const k of ['activation_date', 'deactivation_date', 'expiration_date', 'meter_limit']) assert.ok(k in before, `license carries ${k}`);
    const file = JSON.stringify(signLicense({ id: 'L-dict', customer: 'Dictionary GmbH', activation_date: '2026-01-01', expiration_date: '2099-12-31', meter_limit: 40, issued_at: '2026-01-01T00:00:00Z' }, TEST_LICENSE_KEYS.privateKey));
    ok(await client.uploadLicense(file));
    const now = ok(await client.license());
    assert.deepEqual([now.activation_date, now.expiration_date, now.meter_limit], ['2026-01-01', '2099-12-31', 40]);
    refused(await client.uploadLicense('not a license'), 400, /license: not JSON/);
  });

  it('Event log data: date1, date2, filter, limit -> meter_id, date, meter_name, event, value', async () => {
    const events = ok(await client.eventLog({ date1: today, filter: 'license', limit: '5' }));
    const installed = events.find((e: any) => /license L-dict installed/.test(e.event));
    assert.ok(installed, JSON.stringify(events));
    for (const k of ['meter_id', 'date', 'meter_name', 'event', 'value']) assert.ok(k in installed, `event carries ${k}`);
    assert.equal(installed.value, 'Dictionary GmbH');
    refused(await client.eventLog({ limit: 'many' }), 400, /limit/);
  });

  it('Logout: username -> status; the cookie no longer opens anything', async () => {
    ok(await client.logout(ADMIN.login));
    refused(await client.currentUser(), 401, /log in/);
  });
});
