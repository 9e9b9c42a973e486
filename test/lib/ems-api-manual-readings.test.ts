// POST /api/meters/:id/readings: readings people enter (manual meters, corrections), checked all-or-nothing, flagged MANUAL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { MAX_POSTED_READINGS } from '../../lib/ems/manual-readings';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';
import { Quality, qualityFlags } from '../../lib/model/quality';

type Answer = HttpAnswer & { body: any };
const NOW = Date.UTC(2026, 11, 7, 12, 0);
const H = 3_600_000;
const DAY = Date.UTC(2026, 11, 6);

describe('POST /api/meters/:id/readings', () => {
  let services: EmsServices;
  let store: SqliteStore;
  const tokens: Record<string, string> = {};
  const run = (name: string, token: string, id: string, query: Record<string, unknown>, body?: unknown): Promise<Answer> => runOperation(operationByName(name)!, {
    services, store, bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => NOW,
    request: { method: operationByName(name)!.method, params: { id }, query, body, headers: { authorization: `Bearer ${token}` }, cookies: {} },
  }) as Promise<Answer>;
  const post = (token: string, id: string, body: unknown) => run('meters.readings.post', token, id, {}, body);
  const get = (token: string, id: string, query: Record<string, unknown>) => run('meters.readings', token, id, query);
  const stored = async (meter: string) => store.query({ meter, from: 0, to: NOW + H });

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    const a = services.registry.createFolder({ name: 'Plant A' })._id;
    const b = services.registry.createFolder({ name: 'Plant B' })._id;
    services.registry.createMeter({ name: 'Hand A', folder_id: a, protocol: 'manual' }, undefined, 'ma');
    services.registry.createMeter({ name: 'Polled A', folder_id: a, protocol: 'modbus-tcp', profile: 'eastron-sdm630' }, undefined, 'pa');
    services.registry.createMeter({ name: 'Hand B', folder_id: b, protocol: 'manual' }, undefined, 'mb');
    store = new SqliteStore({ path: ':memory:' });
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    for (const [login, role, folders] of [['op-a', 'operator', [a]], ['view-a', 'viewer', [a]]] as const) {
      await services.users.create({ login, name: login, password: `Manual-pass-${role}-2026-x`, role, open_folders: [...folders] });
      tokens[login] = (await services.auth.login(login, `Manual-pass-${role}-2026-x`)).access_token;
    }
  });
  after(async () => {
    services.close();
    await store.close();
  });

  it('stores one reading in the canonical unit, flagged MANUAL, visible in GET readings, and audits the write', async () => {
    const r = await post(tokens['op-a'], 'ma', { time: '2026-12-06T01:00:00+01:00', obis: '1.8.0', value: '1234.5', unit: 'MWh' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.data, { meter: 'ma', written: 1 });
    const back = await get(tokens['view-a'], 'ma', { from: DAY - H, to: DAY + H });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(back.body.data.readings.map((x: any) => [x.time, x.obis, x.value, x.unit, qualityFlags(x.quality)]), [[DAY, '1-0:1.8.0', 1_234_500, 'kWh', ['MANUAL']]]);
    const audit = services.events.query({ filter: 'audit', limit: 20 }).filter((e) => e.source?.startsWith('op-a@')).map((e) => e.event);
    assert.ok(audit.includes('meters.readings.post POST /api/meters/ma/readings 201'), JSON.stringify(audit));
  });

  it('stores a batch; re-posting it changes nothing; fn=delta gives the consumption between the entered register values', async () => {
    const values = [100, 110, 125, 126.5];
    const readings = values.map((value, k) => ({ time: DAY + k * H, obis: '1-0:1.8.0', value, unit: 'kWh' }));
    for (let round = 0; round < 2; round++) {
      const r = await post(tokens.admin, 'ma', { readings });
      assert.deepEqual([r.status, r.body.data?.written], [201, 4], JSON.stringify(r.body));
      const rows = await stored('ma');
      assert.deepEqual(rows.map((x) => [x.time - DAY, x.value, x.quality]), values.map((v, k) => [k * H, v, Quality.MANUAL]), `after post ${round + 1}`);
    }
    const delta = await get(tokens['view-a'], 'ma', { from: DAY, to: DAY + 3 * H, window: '1h', fn: 'delta' });
    assert.equal(delta.status, 200, JSON.stringify(delta.body));
    assert.deepEqual(delta.body.data.readings.map((x: any) => [x.time - DAY, x.value]), [[0, 10], [H, 15], [2 * H, 1.5]]);
  });

  it('refuses the whole request at the first bad reading, naming its index, field and value', async () => {
    const good = { time: DAY + 10 * H, obis: '8-0:1.0.0', value: 3, unit: 'm3' };
    const cases: [unknown, RegExp][] = [
      [{ readings: [good, { ...good, time: '2026-12-06 11:00' }] }, /^readings\[1\]: time "2026-12-06 11:00" must be ISO 8601 with an offset/],
      [{ readings: [good, good, { ...good, value: 'NaN' }] }, /^readings\[1\]: repeats obis 8-0:1\.0\.0/],
      [{ readings: [good, { ...good, time: DAY + 11 * H, value: '1,5' }] }, /^readings\[1\]: value "1,5" must be a finite number or a decimal string/],
      [{ readings: [good, { ...good, time: DAY + 11 * H, value: Infinity }] }, /^readings\[1\]: value null must be a finite number/],
      [{ readings: [{ ...good, obis: 'water' }] }, /^readings\[0\]: obis "water" must be an OBIS code/],
      [{ readings: [good, { ...good, time: DAY + 11 * H, unit: 'kWh' }] }, /^readings\[1\]: unit "kWh" \(active energy\) does not measure 8-0:1\.0\.0 \(volume\)/],
      [{ readings: [{ ...good, unit: 'litre' }] }, /^readings\[0\]: unit "litre" is not a known unit/],
      [{ readings: [{ ...good, time: NOW + 2 * H }] }, /^readings\[0\]: time \d+ lies in the future/],
      [{ readings: [{ ...good, meter: 'pa' }] }, /^readings\[0\]: meter "pa" is not a reading field/],
      [{ readings: [] }, /^readings is empty/],
      [{ readings: Array.from({ length: MAX_POSTED_READINGS + 1 }, (_, k) => ({ ...good, time: DAY + k * 1000 })) }, new RegExp(`^readings holds ${MAX_POSTED_READINGS + 1} readings, more than ${MAX_POSTED_READINGS}`)],
      [[good], /^the body must be one reading/],
    ];
    for (const [body, error] of cases) {
      const r = await post(tokens.admin, 'ma', body);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 200));
      assert.match(r.body.error, error);
    }
    assert.deepEqual((await stored('ma')).filter((x) => x.obis === '8-0:1.0.0'), [], 'nothing of a refused request is stored');
    const most = await post(tokens.admin, 'ma', { readings: Array.from({ length: MAX_POSTED_READINGS }, (_, k) => ({ ...good, time: DAY + k * 1000, value: k })) });
    assert.deepEqual([most.status, most.body.data?.written], [201, MAX_POSTED_READINGS], JSON.stringify(most.body).slice(0, 300));
  });

  it('is for operators in the meter\'s folders; a polled meter takes corrections, flagged MANUAL', async () => {
    const one = { time: DAY, obis: '1-0:1.8.0', value: 7, unit: 'kWh' };
    assert.throws(() => services.registry.createMeter({ name: 'Hand X', protocol: 'manual', profile: 'eastron-sdm630' }), /profile "eastron-sdm630" must be empty for a manual meter/);
    assert.equal((await post(tokens['view-a'], 'ma', one)).status, 403, 'a viewer may not enter readings');
    assert.equal((await post(tokens['op-a'], 'mb', one)).status, 404, 'a meter outside the caller\'s folders is not confirmed');
    assert.equal((await post(tokens.admin, 'nobody', one)).status, 404, 'an unknown meter');
    assert.deepEqual(await stored('mb'), []);
    await store.write([{ meter: 'pa', time: DAY, obis: '1-0:1.8.0', value: 999_999, unit: 'kWh' }]);
    assert.equal((await post(tokens['op-a'], 'pa', one)).status, 201);
    assert.deepEqual((await stored('pa')).map((x) => [x.value, x.quality]), [[7, Quality.MANUAL]], 'the correction replaced the polled value');
  });
});
