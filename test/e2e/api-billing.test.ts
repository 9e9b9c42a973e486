import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../lib/store';
import { dayReadings, touTariff } from '../lib/billing-fixtures';
import { startEms, type RunningEms } from './runtime';

const METER = 'e2e-meter';

/**
 * Billing through the shipped flows: a tariff, a folder and meter, an accounting object binding them,
 * and a day of readings written into the readings file before Node-RED starts (60 kWh on 2026-01-05:
 * 48 kWh peak at 0.40, 12 kWh valley at 0.20, 0.50 standing charge, VAT 19% = 26.30 EUR).
 */
describe('billing API in the shipped flows (real Node-RED)', () => {
  let ems: RunningEms;
  let dir: string;
  let token = '';

  const api = async (method: string, url: string, body?: unknown): Promise<{ status: number; type: string; body: any; text: string }> => {
    const res = await fetch(`${ems.url}${url}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, text, body: type.includes('json') ? JSON.parse(text) : undefined };
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-billing-e2e-'));
    const readingsFile = path.join(dir, 'readings.sqlite');
    const store = openStore({ backend: 'sqlite', path: readingsFile });
    await store.write(dayReadings(METER));
    await store.close();
    ems = await startEms({
      EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_SQLITE_PATH: readingsFile, EMS_TIME_ZONE: 'Europe/Berlin',
      EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'e2e-head-secret', EMS_MODBUS_PORT: '1',
    });
    const login = await api('POST', '/api/auth/login', { username: 'admin', password: 'e2e-head-secret' });
    assert.equal(login.status, 200, login.text);
    token = login.body.data.access_token;
  });

  after(async () => {
    await ems?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drafts, issues and credits a meter bill', async () => {
    const tariff = await api('POST', '/api/tariffs', { tariff: touTariff() });
    assert.equal(tariff.status, 201, tariff.text);
    const folder = await api('POST', '/api/folders', { name: 'E2E site' });
    assert.equal(folder.status, 201, folder.text);
    const meter = await api('POST', '/api/meters', { _id: METER, folder_id: folder.body.data._id, name: 'E2E meter', protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '1', connection_address: '1' });
    assert.equal(meter.status, 201, meter.text);
    const object = await api('POST', '/api/objects', { name: 'E2E incomer', meter_id: METER, tariff_id: 'day-night', tt: { ratio: '100/5' } });
    assert.equal(object.status, 201, object.text);
    assert.equal(object.body.data.transformer_factor, 20);

    const draft = await api('GET', `/api/meters/${METER}/bill?from=2026-01-05&to=2026-01-06`);
    assert.equal(draft.status, 200, draft.text);
    assert.equal(draft.body.error, null);
    assert.deepEqual([draft.body.data.totals.energy, draft.body.data.totals.fixed, draft.body.data.totals.total], ['21.60', '0.50', '26.30']);

    const csv = await api('GET', `/api/meters/${METER}/bill?from=2026-01-05&to=2026-01-06&format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    const rows = csv.text.trim().split('\r\n');
    assert.equal(rows[0].split(',')[0], 'bill');
    assert.ok(rows.some((r) => /,peak,.*,48,kWh,0.40,19.20,EUR,/.test(r)), csv.text);

    const issued = await api('POST', '/api/bills', { meter: METER, from: '2026-01-05', to: '2026-01-06' });
    assert.equal(issued.status, 201, issued.text);
    const number = issued.body.data.number as string;
    assert.match(number, /^B-\d{4}-000001$/);
    assert.equal(issued.body.data.totals.total, '26.30');
    assert.equal((await api('GET', `/api/bills/${number}`)).body.data.hash, issued.body.data.hash);

    const credit = await api('POST', `/api/bills/${number}/credit-note`, { reason: 'e2e' });
    assert.equal(credit.status, 201, credit.text);
    assert.equal(credit.body.data.references, number);
    assert.equal(credit.body.data.totals.total, '-26.30');
    const list = await api('GET', `/api/bills?meter=${METER}`);
    assert.deepEqual(list.body.data.map((b: any) => b.kind), ['bill', 'credit-note']);
  });

  it('answers 401 without a token and 409 deleting a tariff in use', async () => {
    const anonymous = await fetch(`${ems.url}/api/tariffs`);
    assert.equal(anonymous.status, 401);
    const del = await api('DELETE', '/api/tariffs/day-night');
    assert.equal(del.status, 409);
    assert.match(del.body.error, /in use by object "E2E incomer"/);
  });
});
