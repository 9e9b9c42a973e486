// Spaces (folder area, time zone, type), master/sub-meters, energy categories and the site report through the API operations.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';
import { readCsv } from '../../lib/csv';

type Answer = HttpAnswer & { body: any };
const NOW = Date.UTC(2026, 11, 7, 12, 0);
const H = 3_600_000;

describe('sites API: spaces, sub-meters, energy categories, site report', () => {
  let services: EmsServices;
  let store: SqliteStore;
  const tokens: Record<string, string> = {};
  let site = '';
  let hall = '';
  let other = '';
  const call = (name: string, token: string, params: Record<string, string>, query: Record<string, unknown> = {}, body?: unknown): Promise<Answer> => runOperation(operationByName(name)!, {
    services, store, bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => NOW,
    request: { method: operationByName(name)!.method, params, query, body, headers: { authorization: `Bearer ${token}` }, cookies: {} },
  }) as Promise<Answer>;

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    store = new SqliteStore({ path: ':memory:' });
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    const f = await call('folders.create', tokens.admin, {}, {}, { name: 'Werk', folder_type: 'site', area_m2: 1500, time_zone: 'Europe/Berlin' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    site = f.body.data._id;
    hall = (await call('folders.create', tokens.admin, {}, {}, { name: 'Mieter A', folder_type: 'tenant', parent_id: site, area_m2: '250.5' })).body.data._id;
    other = (await call('folders.create', tokens.admin, {}, {}, { name: 'Elsewhere', folder_type: 'store' })).body.data._id;
    await services.users.create({ login: 'viewer-a', name: 'v', password: 'Sites-pass-viewer-2026-x', role: 'viewer', open_folders: [site] });
    tokens.viewer = (await services.auth.login('viewer-a', 'Sites-pass-viewer-2026-x')).access_token;
  });
  after(async () => {
    services.close();
    await store.close();
  });

  it('folders carry area_m2, time_zone and the new types; bad values are refused naming field and value', async () => {
    const got = await call('folders.get', tokens.viewer, { id: hall });
    assert.deepEqual([got.body.data.folder_type, got.body.data.area_m2, got.body.data.time_zone], ['tenant', 250.5, null]);
    assert.deepEqual([(await call('folders.get', tokens.admin, { id: site })).body.data.time_zone], ['Europe/Berlin']);
    for (const [body, re] of [
      [{ area_m2: -5 }, /^area_m2 -5 must be a positive number/],
      [{ area_m2: 'big' }, /^area_m2 "big" must be a positive number/],
      [{ time_zone: 'Mars/Olympus' }, /^time_zone "Mars\/Olympus" must be an IANA time zone/],
      [{ folder_type: 'castle' }, /^folder_type "castle" must be one of .*tenant, store, shopfloor, equipment/],
    ] as const) {
      const r = await call('folders.update', tokens.admin, { id: hall }, {}, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error, re);
    }
    const cleared = await call('folders.update', tokens.admin, { id: hall }, {}, { area_m2: null, time_zone: 'Europe/Vienna' });
    assert.deepEqual([cleared.body.data.area_m2, cleared.body.data.time_zone], [null, 'Europe/Vienna']);
    await call('folders.update', tokens.admin, { id: hall }, {}, { area_m2: 250.5, time_zone: null });
  });

  it('parent_meter: unknown ids, the meter itself and cycles are 400 naming the ids; deleting a parent is 409 naming the child', async () => {
    const mk = (id: string, extra: Record<string, unknown> = {}) => call('meters.create', tokens.admin, {}, {}, { _id: id, name: id, folder_id: site, protocol: 'manual', ...extra });
    assert.equal((await mk('main')).status, 201);
    const unknown = await mk('sub-x', { parent_meter: 'nope' });
    assert.deepEqual([unknown.status, unknown.body.error], [400, 'parent_meter "nope" is not a known meter']);
    assert.equal((await mk('sub-a', { parent_meter: 'main', folder_id: hall })).status, 201);
    const self = await call('meters.update', tokens.admin, { id: 'main' }, {}, { parent_meter: 'main' });
    assert.deepEqual([self.status, self.body.error], [400, 'parent_meter "main" is the meter itself']);
    const cycle = await call('meters.update', tokens.admin, { id: 'main' }, {}, { parent_meter: 'sub-a' });
    assert.deepEqual([cycle.status, cycle.body.error], [400, 'parent_meter "sub-a" would make a cycle of parent meters: main -> sub-a -> main']);
    const del = await call('meters.delete', tokens.admin, { id: 'main' });
    assert.equal(del.status, 409);
    assert.match(del.body.error, /parent_meter of "sub-a"/);
    const cat = await mk('gas-1', { energy_category: 'plasma' });
    assert.equal(cat.status, 400);
    assert.match(cat.body.error, /^energy_category "plasma" is not an energy category \(known: .*electricity/);
  });

  it('energy categories: viewers read, admins write; built-ins cannot be deleted; factor periods are checked', async () => {
    const list = await call('energy-categories.list', tokens.viewer, {});
    assert.deepEqual(list.body.data.map((c: any) => [c.id, c.unit]), [['electricity', 'kWh'], ['water', 'm3'], ['gas', 'm3'], ['heat', 'GJ'], ['cooling', 'kWh'], ['steam', 't']]);
    assert.equal((await call('energy-categories.create', tokens.viewer, {}, {}, { id: 'x' })).status, 403);
    const bad = await call('energy-categories.update', tokens.admin, { id: 'electricity' }, {}, { factors: [{ from: '2026-02-30', kgce: 1, kgco2e: 1 }] });
    assert.deepEqual([bad.status, bad.body.error], [400, 'factors[0].from "2026-02-30" must be a date YYYY-MM-DD in the years 1970..2100']);
    const order = await call('energy-categories.update', tokens.admin, { id: 'electricity' }, {}, { factors: [{ from: '2026-07-01', kgce: 1, kgco2e: 1 }, { from: '2026-01-01', kgce: 1, kgco2e: 1 }] });
    assert.match(order.body.error, /^factors\[1\]\.from "2026-01-01" must come after factors\[0\]\.from "2026-07-01"/);
    const ok = await call('energy-categories.update', tokens.admin, { id: 'electricity' }, {}, { factors: [{ from: '2000-01-01', kgce: '0.1229', kgco2e: '0.5' }, { from: '2026-07-01', kgce: 0.1229, kgco2e: 0.25 }] });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.data.factors, [{ from: '2000-01-01', kgce: '0.1229', kgco2e: '0.5' }, { from: '2026-07-01', kgce: '0.1229', kgco2e: '0.25' }]);
    const created = await call('energy-categories.create', tokens.admin, {}, {}, { id: 'compressed-air', name: 'Compressed air', unit: 'm3', factors: [{ from: '2026-01-01', kgce: '0.01', kgco2e: '0.03' }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await call('meters.create', tokens.admin, {}, {}, { _id: 'air', name: 'air', folder_id: site, protocol: 'manual', energy_category: 'compressed-air' })).status, 201);
    const inUse = await call('energy-categories.delete', tokens.admin, { id: 'compressed-air' });
    assert.deepEqual([inUse.status, inUse.body.error], [409, 'energy category "compressed-air" is the energy_category of meter(s) "air"; change them first']);
    const builtIn = await call('energy-categories.delete', tokens.admin, { id: 'gas' });
    assert.equal(builtIn.status, 409);
  });

  it('site report: JSON for the caller\'s folder (the July factor change splits the month), CSV; outside the caller\'s folders 404; too long a period 400', async () => {
    // main: 0 at 30 June 00:00 Berlin, +100 kWh per day; sub-a: +40 kWh per day. July 1 .. 2 in Berlin = 2 days.
    const start = Date.UTC(2026, 5, 29, 22);
    const rows = [];
    for (let d = 0; d <= 4; d++) {
      rows.push({ meter: 'main', obis: '1-0:1.8.0', time: start + d * 24 * H, value: 100 * d, unit: 'kWh' });
      rows.push({ meter: 'sub-a', obis: '1-0:1.8.0', time: start + d * 24 * H, value: 40 * d, unit: 'kWh' });
    }
    await store.write(rows);
    const r = await call('folders.report', tokens.viewer, { id: site }, { from: '2026-06-30', to: '2026-07-01', step: 'month' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const el = r.body.data.categories.find((c: any) => c.id === 'electricity');
    // 30 June: 100 kWh x 0.5 = 50; 1 July: 100 kWh x 0.25 = 25: 200 kWh, 75 kgCO2e; two month steps (June, July).
    assert.deepEqual([el.consumption, el.kgco2e, el.series.map((s: any) => [s.date, s.consumption, s.kgco2e])], ['200', '75', [['2026-06-30T00:00:00+02:00', '100', '50'], ['2026-07-01T00:00:00+02:00', '100', '25']]]);
    assert.deepEqual(el.per_m2, { consumption: '0.133333', kgce: '0.016387', kgco2e: '0.05' }); // 200 / 1500; 24.58 / 1500; 75 / 1500
    assert.deepEqual([r.body.data.submeters[0].remainder.consumption, r.body.data.spaces[0].categories[0].consumption], ['120', '80']);
    const csv = await call('folders.report', tokens.viewer, { id: site }, { from: '2026-06-30', to: '2026-07-01', format: 'csv' });
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers?.['content-type']), /^text\/csv/);
    const table = readCsv(String(csv.body));
    const total = table.rows.find((row) => row.cells[0] === 'total' && row.cells[1] === 'electricity')!;
    assert.deepEqual([total.cells[7], total.cells[9]], ['200', '75']);
    assert.equal((await call('folders.report', tokens.viewer, { id: other }, {})).status, 404);
    const long = await call('folders.report', tokens.viewer, { id: site }, { from: '2026-01-01', to: '2026-12-01', step: 'hour' });
    assert.equal(long.status, 400);
    assert.match(long.body.error, /^to "2026-12-01" is \d+ days after from "2026-01-01": sites.report with step=hour allows at most 93 days/);
    // The location form: the viewer's one open folder, without an id.
    const located = await call('reports.site', tokens.viewer, {}, { from: '2026-06-30', to: '2026-07-01', step: 'month' });
    assert.deepEqual([located.status, located.body.data?.folder._id, located.body.data?.categories[0].consumption], [200, site, '200']);
    const admin = await call('reports.site', tokens.admin, {}, {});
    assert.deepEqual([admin.status, admin.body.error], [400, 'folder is required (a folder id): you have every folder open']);
    const half = await call('folders.report', tokens.viewer, { id: site }, { base_from: '2026-01-01' });
    assert.match(half.body.error, /^base_from "2026-01-01" and base_to null go together/);
  });
});
