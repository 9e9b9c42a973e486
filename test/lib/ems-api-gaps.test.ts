// GET /api/meters/:id/gaps: missing interval slots per OBIS code, scoped by the caller's folders, bounded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';
import { Quality } from '../../lib/model/quality';

type Answer = HttpAnswer & { body: any };
const NOW = Date.UTC(2026, 11, 7, 12, 0);
const Q = 15 * 60_000;

describe('GET /api/meters/:id/gaps', () => {
  let services: EmsServices;
  let store: SqliteStore;
  const tokens: Record<string, string> = {};
  const call = (token: string, id: string, query: Record<string, unknown>): Promise<Answer> => runOperation(operationByName('meters.gaps')!, {
    services, store, bills: new BillStore(':memory:'), timeZone: 'Europe/Berlin', now: () => NOW,
    request: { params: { id }, query, body: undefined, headers: { authorization: `Bearer ${token}` }, cookies: {} },
  }) as Promise<Answer>;

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    const a = services.registry.createFolder({ name: 'Plant A' })._id;
    const b = services.registry.createFolder({ name: 'Plant B' })._id;
    services.registry.createMeter({ name: 'A', folder_id: a, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 900 }, undefined, 'a1');
    services.registry.createMeter({ name: 'B', folder_id: b, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 900 }, undefined, 'b1');
    store = new SqliteStore({ path: ':memory:' });
    // Six hours of 15-minute readings with 08:00..09:00 UTC missing, then backfilled except 08:30.
    const rows = [];
    for (let t = NOW - 6 * 3_600_000; t < NOW; t += Q) {
      const hour = new Date(t).getUTCHours();
      if (hour !== 8) rows.push({ meter: 'a1', obis: '1-0:1.8.0', time: t, value: t / 1e9, unit: 'kWh' });
    }
    await store.write(rows);
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    await services.users.create({ login: 'view-b', name: 'view-b', password: 'Gap-pass-viewer-2026-x', role: 'viewer', open_folders: [b] });
    tokens.viewB = (await services.auth.login('view-b', 'Gap-pass-viewer-2026-x')).access_token;
  });
  after(async () => {
    services.close();
    await store.close();
  });

  it('shows the missing hour, then what a backfill left open, at the meter\'s interval by default', async () => {
    const from = NOW - 6 * 3_600_000;
    const r = await call(tokens.admin, 'a1', { from, to: NOW });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.interval, Q);
    assert.deepEqual(r.body.data.gaps, [{ obis: '1-0:1.8.0', from: Date.UTC(2026, 11, 7, 8), to: Date.UTC(2026, 11, 7, 9), missing: 4 }]);
    await store.write([0, 1, 3].map((k) => ({ meter: 'a1', obis: '1-0:1.8.0', time: Date.UTC(2026, 11, 7, 8) + k * Q, value: 1, unit: 'kWh', quality: Quality.BACKFILLED })));
    const after = await call(tokens.admin, 'a1', { from, to: NOW, obis: '1-0:1.8.0' });
    assert.deepEqual(after.body.data.gaps.map((g: any) => [new Date(g.from).toISOString(), g.missing]), [['2026-12-07T08:30:00.000Z', 1]]);
    assert.equal(after.body.data.missing, 1);
    const hourly = await call(tokens.admin, 'a1', { from, to: NOW, interval: '1h' });
    assert.equal(hourly.body.data.missing, 0);
  });

  it('is scoped by the caller\'s folders and bounded, naming the parameter', async () => {
    assert.equal((await call(tokens.viewB, 'a1', {})).status, 404);
    assert.equal((await call(tokens.viewB, 'b1', {})).status, 200, 'a defined meter without readings answers its whole range');
    const many = await call(tokens.admin, 'a1', { from: '2026-01-01', to: '2026-12-01', interval: '15m' });
    assert.equal(many.status, 400);
    assert.match(many.body.error, /^interval: "15m" cuts from\.\.to into \d+ slots, more than 10000/);
    assert.match((await call(tokens.admin, 'a1', { interval: '0.5s' })).body.error, /^interval: "0\.5s" is not a duration of at least 1 s/);
    assert.match((await call(tokens.admin, 'a1', { obis: 'energy' })).body.error, /^obis: "energy" is not an OBIS code/);
    assert.match((await call(tokens.admin, 'a1', { from: 'soon' })).body.error, /^from: "soon" is not a time/);
    assert.match((await call(tokens.admin, 'a1', { window: '1h' })).body.error, /^unknown parameter "window"/);
  });
});
