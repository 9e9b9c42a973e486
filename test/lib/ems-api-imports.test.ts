// POST /api/imports (preview, commit), GET /api/imports[/:id], DELETE /api/imports/:id (undo) over the API's operations and a sqlite store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import writeXlsxFile from 'write-excel-file/node';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer, type UploadedFile } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';
import { qualityFlags } from '../../lib/model/quality';
import type { Reading } from '../../lib/model/reading';

type Answer = HttpAnswer & { body: any };
const NOW = Date.UTC(2026, 11, 7, 12, 0);
const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 0); // 01:00 in Berlin

describe('file imports of readings (API)', () => {
  let services: EmsServices;
  let store: SqliteStore;
  const tokens: Record<string, string> = {};
  const run = (name: string, token: string, o: { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; files?: UploadedFile[] } = {}): Promise<Answer> => runOperation(operationByName(name)!, {
    services, store, bills: new BillStore(':memory:'), timeZone: 'Europe/Berlin', now: () => NOW,
    request: { method: operationByName(name)!.method, params: o.params ?? {}, query: o.query ?? {}, body: o.body ?? {}, files: o.files, headers: { authorization: `Bearer ${token}` }, cookies: {} },
  }) as Promise<Answer>;
  const upload = (token: string, bytes: Buffer | string, query: Record<string, unknown> = {}, name = 'readings.csv') =>
    run('imports.create', token, { query, files: [{ fieldname: 'file', originalname: name, buffer: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes) }] });
  const stored = async (meter: string) => (await store.query({ meter, from: 0, to: NOW + H }) as Reading[]).map((r) => [new Date(r.time).toISOString(), r.value, qualityFlags(r.quality)]);

  // 02:00, 03:00, 04:00 Berlin (01:00 .. 03:00 UTC) for meter ma; 03:00 is stored already from a poll with another value.
  const csv = 'meter;time;obis;value;unit\r\n'
    + 'ma;01.12.2026 02:00;1-0:1.8.0;100,5;kWh\r\n'
    + 'ma;01.12.2026 03:00;1-0:1.8.0;101,5;kWh\r\n'
    + 'ma;01.12.2026 04:00;1-0:1.8.0;102,5;kWh\r\n';

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    const a = services.registry.createFolder({ name: 'Plant A' })._id;
    const b = services.registry.createFolder({ name: 'Plant B' })._id;
    services.registry.createMeter({ name: 'Hand A', folder_id: a, protocol: 'manual' }, undefined, 'ma');
    services.registry.createMeter({ name: 'Hand B', folder_id: b, protocol: 'manual' }, undefined, 'mb');
    store = new SqliteStore({ path: ':memory:' });
    await store.write([{ meter: 'ma', obis: '1-0:1.8.0', time: T0 + 2 * H, value: 90, unit: 'kWh' }, { meter: 'ma', obis: '1-0:1.8.0', time: T0 + 3 * H, value: 102.5, unit: 'kWh' }]);
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    for (const [login, role] of [['op-a', 'operator'], ['view-a', 'viewer']] as const) {
      await services.users.create({ login, name: login, password: `Import-pass-${role}-2026-x`, role, open_folders: [a] });
      tokens[login] = (await services.auth.login(login, `Import-pass-${role}-2026-x`)).access_token;
    }
  });
  after(async () => {
    services.close();
    await store.close();
  });

  it('previews without writing: rows, per-meter counts, new / unchanged / replaced, the zone used', async () => {
    const before = await stored('ma');
    const r = await upload(tokens['op-a'], csv);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body.data;
    assert.deepEqual([d.mode, d.format, d.separator, d.decimal_comma, d.time_zone, d.rows, d.meters, d.new, d.unchanged, d.replaced, d.bad_rows, d.errors],
      ['preview', 'csv', ';', true, 'Europe/Berlin', 3, { ma: 3 }, 1, 1, 1, 0, []]);
    assert.deepEqual(await stored('ma'), before);
  });

  it('is refused to a viewer; a row for a meter outside the caller\'s folders (or none) is a bad row that reveals nothing', async () => {
    assert.equal((await upload(tokens['view-a'], csv)).status, 403);
    const bad = `${csv}mb;01.12.2026 05:00;1-0:1.8.0;1;kWh\r\nghost;01.12.2026 05:00;1-0:1.8.0;1;kWh\r\n`;
    const preview = await upload(tokens['op-a'], bad);
    assert.deepEqual([preview.status, preview.body.data.rows, preview.body.data.readings, preview.body.data.new, preview.body.data.replaced, preview.body.data.bad_rows], [200, 5, 3, 1, 1, 2]);
    const r = await upload(tokens['op-a'], bad, { mode: 'commit' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^2 bad rows, nothing imported: line 5, column meter: meter "mb" is not a meter you may import for; line 6, column meter: meter "ghost" is not a meter you may import for$/);
    assert.deepEqual(r.body.data.errors.map((e: any) => [e.line, e.column, e.value]), [[5, 'meter', 'mb'], [6, 'meter', 'ghost']]);
    assert.deepEqual(await stored('ma'), [['2026-12-01T02:00:00.000Z', 90, []], ['2026-12-01T03:00:00.000Z', 102.5, []]]);
  });

  let first: number;
  it('commits all readings flagged IMPORTED and MANUAL, keeps the unchanged one as it was, and logs the import', async () => {
    const r = await upload(tokens['op-a'], csv, { mode: 'commit' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    first = r.body.data.import;
    assert.equal(r.body.data.written, 2);
    assert.deepEqual(await stored('ma'), [
      ['2026-12-01T01:00:00.000Z', 100.5, ['MANUAL', 'IMPORTED']],
      ['2026-12-01T02:00:00.000Z', 101.5, ['MANUAL', 'IMPORTED']],
      ['2026-12-01T03:00:00.000Z', 102.5, []],
    ]);
    const events = services.events.query({ filter: 'import', limit: 10 }).map((e) => e.event);
    assert.deepEqual(events, [`import ${first} committed: 1 new, 1 replaced, 1 unchanged readings of 1 meter(s) from readings.csv`]);
    const audit = services.events.query({ filter: 'audit', limit: 10 }).map((e) => e.event);
    assert.ok(audit.includes('imports.create POST /api/imports 201'), JSON.stringify(audit));
  });

  it('re-importing the same bytes, or the same readings as an XLSX, answers 200 naming the earlier import and writes nothing', async () => {
    const again = await upload(tokens['op-a'], csv, { mode: 'commit' });
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.data.import, again.body.data.written], [first, 0]);
    const cells = (v: unknown[]) => v.map((value) => (value instanceof Date ? { value, format: 'yyyy-mm-dd hh:mm' } : { value }));
    const xlsx = Buffer.from(await writeXlsxFile([cells(['time', 'obis', 'value', 'unit']),
      ...[[2, 100.5], [3, 101.5], [4, 102.5]].map(([h, v]) => cells([new Date(Date.UTC(2026, 11, 1, h)), '1-0:1.8.0', v, 'kWh']))] as never).toBuffer());
    const viaXlsx = await upload(tokens['op-a'], xlsx, { mode: 'commit', meter: 'ma' }, 'readings.xlsx');
    assert.equal(viaXlsx.status, 200, JSON.stringify(viaXlsx.body));
    assert.deepEqual([viaXlsx.body.data.format, viaXlsx.body.data.import, viaXlsx.body.data.written], ['xlsx', first, 0]);
    const list = await run('imports.list', tokens['view-a']);
    assert.deepEqual(list.body.data.map((i: any) => [i.id, i.added, i.replaced, i.unchanged, i.meters, i.undone_at]), [[first, 1, 1, 1, { ma: 3 }, null]]);
    assert.equal((await run('imports.get', tokens.admin, { params: { id: String(first) } })).body.data.file_name, 'readings.csv');
  });

  it('refuses to undo an import a later import wrote over, then undoes both in order, restoring the replaced value and quality', async () => {
    const later = await upload(tokens['op-a'], 'time;obis;value;unit\n01.12.2026 03:00;1-0:1.8.0;101,75;kWh\n', { mode: 'commit', meter: 'ma' });
    assert.equal(later.status, 201, JSON.stringify(later.body));
    const second = later.body.data.import;
    const refused = await run('imports.undo', tokens['op-a'], { params: { id: String(first) } });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error, new RegExp(`later import ${second} wrote the same readings`));
    assert.equal((await run('imports.undo', tokens['view-a'], { params: { id: String(second) } })).status, 403);
    const u2 = await run('imports.undo', tokens['op-a'], { params: { id: String(second) } });
    assert.deepEqual([u2.status, u2.body.data.removed, u2.body.data.restored], [200, 0, 1]);
    const u1 = await run('imports.undo', tokens['op-a'], { params: { id: String(first) } });
    assert.deepEqual([u1.status, u1.body.data.removed, u1.body.data.restored], [200, 1, 1]);
    assert.deepEqual(u1.body.data.restored_readings.map((x: any) => [x.time, x.value, x.quality]), [['2026-12-01T02:00:00.000Z', 90, undefined]]);
    assert.deepEqual(await stored('ma'), [['2026-12-01T02:00:00.000Z', 90, []], ['2026-12-01T03:00:00.000Z', 102.5, []]]);
    const again = await run('imports.undo', tokens['op-a'], { params: { id: String(first) } });
    assert.equal(again.status, 409);
    const events = services.events.query({ filter: 'import', limit: 10 }).map((e) => e.event);
    assert.equal(events[0], `import ${first} undone: 1 readings removed, 1 restored to their previous value`);
  });

  it('imports an undone file again as a new import; hides imports of meters outside the caller\'s folders', async () => {
    const r = await upload(tokens['op-a'], csv, { mode: 'commit' });
    assert.equal(r.status, 201);
    assert.notEqual(r.body.data.import, first);
    const b = await upload(tokens.admin, 'meter,time,obis,value,unit\nmb,2026-12-01T00:00:00Z,1-0:1.8.0,5,kWh\n', { mode: 'commit' });
    assert.equal(b.status, 201);
    const seen = (await run('imports.list', tokens['view-a'])).body.data.map((i: any) => i.id);
    assert.ok(!seen.includes(b.body.data.import) && seen.includes(r.body.data.import));
    assert.equal((await run('imports.get', tokens['view-a'], { params: { id: String(b.body.data.import) } })).status, 404);
    assert.equal((await run('imports.undo', tokens['op-a'], { params: { id: String(b.body.data.import) } })).status, 404);
  });

  it('records one import when the same file is committed twice at once', async () => {
    const file = 'time,obis,value,unit\n2026-12-03T00:00:00Z,1-0:1.8.0,9,kWh\n';
    const both = await Promise.all([upload(tokens['op-a'], file, { mode: 'commit', meter: 'ma' }), upload(tokens['op-a'], file, { mode: 'commit', meter: 'ma' })]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 201]);
    assert.equal(both[0].body.data.import, both[1].body.data.import);
  });

  it('takes a raw text body, and names bad parameters', async () => {
    const raw = await run('imports.create', tokens['op-a'], { body: 'time,obis,value,unit\n2026-12-02T00:00:00Z,1-0:1.8.0,7,kWh\n', query: { meter: 'ma' } });
    assert.deepEqual([raw.status, raw.body.data.new], [200, 1]);
    assert.match((await upload(tokens['op-a'], csv, { mode: 'write' })).body.error, /mode "write" must be preview or commit/);
    assert.equal((await upload(tokens['op-a'], csv, { meter: 'mb' })).status, 404);
    assert.match((await run('imports.create', tokens['op-a'], {})).body.error, /file is missing/);
  });

  it('reads a meter\'s local times in its folder\'s time zone (here New York under a Berlin EMS), and says so', async () => {
    const ny = services.registry.createFolder({ name: 'Plant NY', time_zone: 'America/New_York' })._id;
    const hall = services.registry.createFolder({ name: 'Hall', parent_id: ny })._id; // no zone of its own: New York's
    services.registry.createMeter({ name: 'Hand NY', folder_id: hall, protocol: 'manual' }, undefined, 'mny');
    const r = await upload(tokens.admin, 'meter;time;obis;value;unit\r\nmny;01.12.2026 08:00;1-0:1.8.0;5;kWh\r\nma;01.12.2026 08:00;1-0:1.8.0;5;kWh\r\n');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.data.time_zone, r.body.data.meter_time_zones, r.body.data.bad_rows], ['Europe/Berlin', { mny: 'America/New_York' }, 0]);
    const done = await upload(tokens.admin, 'meter;time;obis;value;unit\r\nmny;01.12.2026 08:00;1-0:1.8.0;5;kWh\r\n', { mode: 'commit' });
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.deepEqual(await stored('mny'), [['2026-12-01T13:00:00.000Z', 5, ['MANUAL', 'IMPORTED']]], '08:00 in New York (UTC-5)');
    assert.equal((await run('imports.undo', tokens.admin, { params: { id: String(done.body.data.import) } })).status, 200);
  });
});
