import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer, type UploadedFile } from '../../lib/ems/api';
import { FOLDER_PAGE_METERS } from '../../lib/ems/api/folder-data';
import { generateLicenseKeys, signLicense } from '../../lib/ems/license';
import { openEmsServices } from '../../lib/ems/services';
import { openStore } from '../../lib/store';

const NOW = Date.UTC(2026, 10, 21, 9); // 2026-11-21 09:00 UTC
const LICENSE_KEYS = generateLicenseKeys();
const iec = { protocol: 'iec62056-21', ip_address: '127.0.0.1', port: '5020' };

interface Call { token?: string; params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; files?: UploadedFile[] }
type Answer = HttpAnswer & { body: any };

async function openEms() {
  const services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'head-pass-0417' }, licensePublicKey: LICENSE_KEYS.publicKey, now: () => NOW });
  const store = openStore({ backend: 'sqlite', path: ':memory:' });
  const call = async (name: string, c: Call = {}): Promise<Answer> => {
    const op = operationByName(name);
    assert.ok(op, `operation ${name}`);
    return runOperation(op, {
      services, store, bills: {} as BillStore, timeZone: 'UTC', now: () => NOW,
      request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: c.token ? { authorization: `Bearer ${c.token}` } : {}, cookies: {}, files: c.files },
    }) as Promise<Answer>;
  };
  const token = async (login: string, password: string) => (await services.auth.login(login, password)).access_token;
  return { services, store, call, admin: await token('admin', 'head-pass-0417'), token };
}

function ok(r: Answer, status = 200): any {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.status, status);
  assert.equal(r.body.error, null);
  return r.body.data;
}

function refused(r: Answer, status: number, error: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.data, null);
  assert.equal(r.body.status, status);
  assert.match(r.body.error, error);
}

describe('API: the data dictionary\'s forms beside the REST forms', () => {
  let ems: Awaited<ReturnType<typeof openEms>>;
  let site: string;
  let hall: string;
  let other: string;
  let viewer: string;
  before(async () => {
    ems = await openEms();
    const { call, admin } = ems;
    const license = signLicense({ id: 'L-1', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2027-12-31', meter_limit: 1000, issued_at: '2026-01-01T00:00:00Z' }, LICENSE_KEYS.privateKey);
    ok(await call('license.upload', { token: admin, body: { license: JSON.stringify(license) } }));
    site = ok(await call('folders.create', { token: admin, body: { name: 'Site', folder_type: 'site' } }), 201)._id;
    hall = ok(await call('folders.create', { token: admin, body: { data: { name: 'Hall', folder_type: 'building', parent_id: site } } }), 201)._id;
    other = ok(await call('folders.create', { token: admin, body: { name: 'Other site' } }), 201)._id;
    for (const [id, folder] of [['hall-a', hall], ['hall-b', hall], ['far', other]]) ok(await call('meters.create', { token: admin, body: { _id: id, name: id, folder_id: folder, ...iec } }), 201);
    ok(await call('users.create', { token: admin, body: { login: 'vera', name: 'Vera', password: 'field-pw-0419', role: 'viewer', open_folders: [site] } }), 201);
    viewer = await ems.token('vera', 'field-pw-0419');
    const t0 = NOW - 2 * 3_600_000;
    await ems.store.write(['hall-a', 'hall-b', 'far'].flatMap((meter, i) => [0, 1, 2].map((h) => ({ meter, obis: '1-0:1.8.0', time: t0 + h * 3_600_000, value: 100 * (i + 1) + h, unit: 'kWh' }))));
  });
  after(async () => { ems.services.close(); await ems.store.close(); });

  it('?list= on the folder list: empty or "all" is the tree, a folder id that folder with everything below it', async () => {
    const { call, admin } = ems;
    const all = ok(await call('folders.tree', { token: admin, query: { list: '' } }));
    assert.deepEqual(all.map((f: any) => f.name).sort(), ['Other site', 'Site']);
    assert.deepEqual(ok(await call('folders.tree', { token: admin, query: { list: 'all' } })), all);
    const one = ok(await call('folders.tree', { token: admin, query: { list: hall } }));
    assert.deepEqual([one._id, one.name, one.folder_type, one.parent_id], [hall, 'Hall', 'building', site]);
    assert.deepEqual(one.child_folders.map((c: any) => [c.meter, c.folder_type]), [['hall-a', 'meter'], ['hall-b', 'meter']]);
    refused(await call('folders.tree', { token: admin, query: { list: 'no-such-folder' } }), 404, /unknown folder or meter "no-such-folder"/);
    // A viewer limited to "Site" does not see the other site.
    refused(await call('folders.tree', { token: viewer, query: { list: other } }), 404, new RegExp(other));
  });

  it('?id= / ?_id= on the folder list answer one node: a meter leaf carries meter and meter_detail', async () => {
    const { call, admin } = ems;
    const leaf = ok(await call('folders.tree', { token: admin, query: { id: 'hall-a' } }));
    assert.deepEqual([leaf._id, leaf.meter, leaf.folder_type, leaf.parent_id, leaf.meter_detail.protocol], ['hall-a', 'hall-a', 'meter', hall, 'iec62056-21']);
    assert.equal(ok(await call('folders.tree', { token: admin, query: { _id: site } })).name, 'Site');
    refused(await call('folders.tree', { token: admin, query: { id: 'hall-a', _id: 'hall-b' } }), 400, /id "hall-a" and _id "hall-b" name different items/);
    refused(await call('folders.tree', { token: admin, query: { id: 'hall-a', list: '' } }), 400, /send either list or id/);
    refused(await call('folders.tree', { token: admin, query: { id: '' } }), 400, /id "" must be an id/);
    refused(await call('folders.tree', { token: admin, query: { lsit: '' } }), 400, /unknown parameter "lsit"/);
    assert.equal(ok(await call('meters.list', { token: admin, query: { id: 'far' } }))._id, 'far');
    assert.deepEqual(ok(await call('meters.list', { token: admin, query: { list: site } })).map((m: any) => m._id), ['hall-a', 'hall-b']);
    assert.equal(ok(await call('meters.list', { token: admin, query: { list: '' } })).length, 3);
    refused(await call('meters.list', { token: viewer, query: { list: other } }), 404, new RegExp(`unknown folder "${other}"`));
  });

  it('deletes and changes by ?id=, ?_id= or id/_id in the body, as well as in the path', async () => {
    const { call, admin } = ems;
    for (const id of ['tmp-1', 'tmp-2', 'tmp-3']) ok(await call('meters.create', { token: admin, body: { _id: id, name: id, folder_id: hall, ...iec } }), 201);
    ok(await call('meters.deleteByQuery', { token: admin, query: { id: 'tmp-1' } }));
    ok(await call('meters.deleteByQuery', { token: admin, query: { _id: 'tmp-2' } }));
    const audited = ems.services.events.query({ filter: 'meters.deleteByQuery' }, { admin: true }).map((e) => e.meter_id);
    assert.deepEqual(audited.sort(), ['tmp-1', 'tmp-2'], 'the audit trail names the meter a dictionary delete removed');
    ok(await call('meters.deleteByQuery', { token: admin, body: { id: 'tmp-3' } }));
    const left = ok(await call('meters.list', { token: admin })).map((m: any) => m._id);
    assert.ok(!left.some((id: string) => id.startsWith('tmp-')), left.join());
    refused(await call('meters.deleteByQuery', { token: admin }), 400, /id is required: name the meter with \?id=<id>/);
    refused(await call('meters.deleteByQuery', { token: admin, query: { id: 'tmp-1' } }), 404, /unknown meter "tmp-1"/);
    const renamed = ok(await call('meters.updateByQuery', { token: admin, query: { id: 'hall-b' }, body: { name: 'Hall B', _id: 'hall-b' } }));
    assert.equal(renamed.name, 'Hall B');
    refused(await call('meters.updateByQuery', { token: admin, query: { id: 'hall-b' }, body: { _id: 'far', name: 'x' } }), 400, /id "hall-b" and _id "far" name different items/);
    const f = ok(await call('folders.create', { token: admin, body: { name: 'Empty' } }), 201);
    assert.equal(ok(await call('folders.updateByQuery', { token: admin, query: { _id: f._id }, body: { data: { name: 'Still empty' } } })).name, 'Still empty');
    ok(await call('folders.deleteByQuery', { token: admin, query: { id: f._id } }));
    refused(await call('folders.get', { token: admin, params: { id: f._id } }), 404, /unknown folder/);
  });

  it('users carry _id; one user by ?_id=; deleted by _id in the body', async () => {
    const { call, admin } = ems;
    const created = ok(await call('users.create', { token: admin, body: { login: 'tom', name: 'Tom', password: 'harbor-pw-0420', role: 'operator' } }), 201);
    assert.equal(created._id, created.id);
    const list = ok(await call('users.list', { token: admin }));
    assert.ok(list.every((u: any) => u._id === u.id && !('password' in u)));
    assert.equal(ok(await call('users.list', { token: admin, query: { _id: created._id } })).login, 'tom');
    const changed = ok(await call('users.updateByQuery', { token: admin, query: { _id: created._id }, body: { name: 'Thomas', open_folders: site } }));
    assert.deepEqual([changed._id, changed.name, changed.open_folders], [created._id, 'Thomas', [site]]);
    ok(await call('users.deleteByQuery', { token: admin, body: { _id: created._id } }));
    refused(await call('users.get', { token: admin, params: { id: created._id } }), 404, /unknown user/);
    const session = ok(await call('auth.session', { token: viewer }));
    assert.equal(session.user._id, session.user.id);
  });

  it('accounting objects: { data: {...} } bodies, ?list=, ?id=, deletes by ?id=', async () => {
    const { call, admin } = ems;
    const obj = ok(await call('objects.create', { token: admin, body: { data: { type: 'feeder', name: 'F1', meter_id: 'hall-a', date: ['2026-01-15'], tn1: { ratio: '10000/100' }, tt: { ratio: '200/5' } } } }), 201);
    assert.deepEqual([obj.name, obj.model, obj.meter_id, obj.transformer_factor], ['F1', 'electricity', 'hall-a', 4000]);
    const calc = ok(await call('objects.create', { token: admin, query: { model: 'calculation' }, body: { data: { type: 'balance', name: 'B1' } } }), 201);
    assert.equal(calc.model, 'calculation');
    assert.deepEqual(ok(await call('objects.list', { token: admin, query: { list: 'calculation' } })).map((o: any) => o.name), ['B1']);
    assert.deepEqual(ok(await call('objects.list', { token: admin, query: { list: '' } })).map((o: any) => o.name).sort(), ['B1', 'F1']);
    const one = ok(await call('objects.list', { token: admin, query: { id: obj._id } }));
    assert.deepEqual([one._id, one.tt.ratio, Array.isArray(one.block)], [obj._id, '200/5', true]);
    const upd = ok(await call('objects.updateByQuery', { token: admin, query: { id: obj._id }, body: { data: { name: 'Feeder 1' } } }));
    assert.equal(upd.name, 'Feeder 1');
    assert.equal(ok(await call('objects.update', { token: admin, params: { id: obj._id }, body: { name: 'F-1' } })).name, 'F-1', 'unwrapped bodies work as before');
    refused(await call('objects.create', { token: admin, body: { data: 'F2' } }), 400, /data "F2" must be an object/);
    refused(await call('objects.create', { token: admin, body: { data: { name: 'F3', meter_id: 'nope' } } }), 400, /nope/);
    ok(await call('objects.deleteByQuery', { token: admin, query: { id: obj._id } }));
    ok(await call('objects.deleteByQuery', { token: admin, query: { _id: calc._id } }));
    assert.deepEqual(ok(await call('objects.list', { token: admin })), []);
  });

  it('data endpoints without meter answer for the caller\'s folders, one answer per meter', async () => {
    const { call, admin } = ems;
    const dash = ok(await call('data.dashboard', { token: viewer }));
    assert.deepEqual([dash.location, dash.meters_total, dash.page, dash.pages], [['Site'], 2, 1, 1]);
    assert.deepEqual(dash.meters.map((m: any) => [m.meter, m.location, m.rows[0].value]), [['hall-a', ['Site', 'Hall'], '102'], ['hall-b', ['Site', 'Hall'], '202']]);
    const table = ok(await call('data.table', { token: admin, query: { folder: other, limit: '2' } }));
    assert.deepEqual([table.location, table.meters.map((m: any) => [m.meter, m.rows.length, m.truncated])], [['Other site'], [['far', 2, true]]]);
    const graphics = ok(await call('data.graphics', { token: viewer, query: { type: 'energy', step: '1h', fn: 'delta' } }));
    assert.equal(graphics.meters.length, 2);
    ok(await call('data.vector', { token: viewer }));
    const report = ok(await call('reports.tariffs', { token: viewer, query: { date1: '2026-11-21', step: 'day' } }));
    assert.deepEqual(report.meters.map((m: any) => [m.meter, m.totals.first_tariff]), [['hall-a', '2'], ['hall-b', '2']]);
    refused(await call('data.dashboard', { token: viewer, query: { folder: other } }), 404, new RegExp(`unknown folder "${other}"`));
    refused(await call('data.dashboard', { token: viewer, query: { page: '2' } }), 400, /page "2" is past the last page 1 \(2 meters, 20 a page\)/);
    refused(await call('data.dashboard', { token: viewer, query: { page: 'x' } }), 400, /page "x" is not a row count/);
    refused(await call('data.table', { token: viewer, query: { type: 'bogus' } }), 400, /type "bogus" is not a parameter type/);
    refused(await call('reports.tariffs', { token: viewer, query: { format: 'csv' } }), 400, /format "csv" needs meter/);
    refused(await call('data.dashboard', { token: viewer, query: { meter: 'hall-a', page: '1' } }), 400, /page "1" applies without meter only/);
  });

  it('pages a folder of more meters than one answer covers', async () => {
    const { call, admin } = ems;
    const big = ok(await call('folders.create', { token: admin, body: { name: 'Big' } }), 201)._id;
    const n = FOLDER_PAGE_METERS + 3;
    for (let i = 0; i < n; i++) ok(await call('meters.create', { token: admin, body: { _id: `big-${String(i).padStart(2, '0')}`, name: `big ${i}`, folder_id: big, ...iec } }), 201);
    const p1 = ok(await call('data.dashboard', { token: admin, query: { folder: big } }));
    const p2 = ok(await call('data.dashboard', { token: admin, query: { folder: big, page: '2' } }));
    assert.deepEqual([p1.meters_total, p1.pages, p1.meters.length, p2.meters.length], [n, 2, FOLDER_PAGE_METERS, 3]);
    assert.equal(new Set([...p1.meters, ...p2.meters].map((m: any) => m.meter)).size, n);
  });

  it('creates a meter from the dictionary\'s fields alone: protocol and folder get their defaults', async () => {
    const { call, admin, services } = ems;
    const fields = {
      name: 'Dictionary meter', number_meter: '0123456', connection_address: '42', password: 'secret', ip_address: '127.0.0.1', port: '8000',
      waiting_time: '2000', interval_time: '900', pause_time: '0', package_size: '0', time_difference: '5', periodType: 'daily', data_polling_length: '600',
      days_of_week: '1,2,3,4,5', days_of_month: '',
    };
    ok(await call('users.create', { token: admin, body: { login: 'otto', name: 'Otto', password: 'ledger-pw-0421', role: 'operator', open_folders: [hall] } }), 201);
    const otto = await ems.token('otto', 'ledger-pw-0421');
    const m = ok(await call('meters.create', { token: otto, body: fields }), 201);
    assert.deepEqual([m.folder_id, m.definition.protocol, m.definition.periodType, m.definition.data_polling_length, m.definition.password_set], [hall, 'iec62056-21', 'daily', 600, true]);
    // An admin (every folder open) gets the first top-level folder by name.
    const m2 = ok(await call('meters.create', { token: admin, body: { data: { ...fields, name: 'Second' } } }), 201);
    assert.equal(m2.folder_id, services.registry.tree().filter((f) => f.folder_type !== 'meter').sort((a, b) => a.name.localeCompare(b.name))[0]._id);
    refused(await call('meters.create', { token: otto, body: { ...fields, protocol: 'telnet' } }), 400, /protocol "telnet" must be one of/);
    refused(await call('meters.create', { token: otto, body: { ...fields, periodType: 'yearly' } }), 400, /periodType "yearly" must be one of/);
  });

  it('a meter without folder_id in an EMS without folders is a 400 naming folder_id', async () => {
    const fresh = await openEms();
    try {
      refused(await fresh.call('meters.create', { token: fresh.admin, body: { name: 'm' } }), 400, /folder_id is required: no folder exists yet/);
    } finally {
      fresh.services.close();
      await fresh.store.close();
    }
  });

  it('license upload by POST as well as PUT', async () => {
    const { call, admin } = ems;
    const file = JSON.stringify(signLicense({ id: 'L-post', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2027-12-31', meter_limit: 100, issued_at: '2026-01-01T00:00:00Z' }, LICENSE_KEYS.privateKey));
    const up = ok(await call('license.uploadPost', { token: admin, files: [{ fieldname: 'license', originalname: 'l.json', buffer: Buffer.from(file) }], body: {} }));
    assert.deepEqual([up.id, up.state, up.meter_limit], ['L-post', 'valid', 100]);
    refused(await call('license.uploadPost', { token: admin, body: {} }), 400, /license is missing/);
    assert.equal(operationByName('license.uploadPost')?.method, 'POST');
    assert.equal(operationByName('license.upload')?.method, 'PUT');
  });
});
