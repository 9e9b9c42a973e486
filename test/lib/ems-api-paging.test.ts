import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { MAX_BULK_METERS, METER_PAGE } from '../../lib/ems/api/poll-server';
import { generateLicenseKeys, signLicense } from '../../lib/ems/license';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { openStore, type ReadingStore } from '../../lib/store';

const NOW = Date.UTC(2026, 10, 21, 9);
const KEYS = generateLicenseKeys();
const ADMIN = { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'head-pass-0417' };
const modbus = (i: number) => ({ protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: 5020, connection_address: String(1 + (i % 200)) });

interface Call { token: string; query?: Record<string, unknown>; body?: unknown }
type Answer = HttpAnswer & { body: any };

async function openEms(meterLimit: number) {
  const services = await openEmsServices({ file: ':memory:', env: ADMIN, licensePublicKey: KEYS.publicKey, now: () => NOW, alarmTickMs: 0 });
  services.license.upload(JSON.stringify(signLicense({ id: 'L', customer: 'test', activation_date: '2026-01-01', expiration_date: '2027-12-31', meter_limit: meterLimit, issued_at: '2026-01-01T00:00:00Z' }, KEYS.privateKey)));
  const store = openStore({ backend: 'sqlite', path: ':memory:' });
  const call = (name: string, c: Call): Promise<Answer> => {
    const op = operationByName(name);
    assert.ok(op, `operation ${name}`);
    return runOperation(op, {
      services, store, bills: {} as BillStore, timeZone: 'UTC', now: () => NOW,
      request: { params: {}, query: c.query ?? {}, body: c.body, headers: { authorization: `Bearer ${c.token}` }, cookies: {} },
    }) as Promise<Answer>;
  };
  const admin = (await services.auth.login(ADMIN.EMS_ADMIN_USER, ADMIN.EMS_ADMIN_PASSWORD)).access_token;
  const userToken = async (login: string, role: string, openFolders: string[]) => {
    const password = `pw-${role}-quiet-0417`;
    await services.users.create({ login, name: login, password, role: role as 'viewer', open_folders: openFolders });
    return (await services.auth.login(login, password)).access_token;
  };
  return { services, store, call, admin, userToken, close: async () => { services.close(); await store.close(); } };
}

/** Every page of GET /api/meters from the start; `between` runs after each page. */
async function walk(call: (n: string, c: Call) => Promise<Answer>, token: string, limit: number, between: (page: number) => void = () => {}): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const r = await call('meters.list', { token, query: { limit: String(limit), ...(cursor ? { cursor } : {}) } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.data.length <= limit, `a page of ${r.body.data.length} meters, more than limit ${limit}`);
    pages.push(r.body.data.map((m: { _id: string }) => m._id));
    assert.ok(pages.length <= 10_000, 'next_cursor never ends');
    cursor = r.body.next_cursor ?? undefined;
    if (!cursor) return pages;
    between(pages.length);
  }
}

describe('API lists: paging of GET /api/meters', () => {
  let ems: Awaited<ReturnType<typeof openEms>>;
  let folders: string[];
  before(async () => {
    ems = await openEms(20_000);
    folders = ['North', 'South', 'East'].map((name) => ems.services.registry.createFolder({ name })._id);
    for (let i = 0; i < 60; i++) ems.services.registry.createMeter({ folder_id: folders[i % 3], name: `Meter ${i}`, ...modbus(i) }, undefined, `m${String(i).padStart(3, '0')}`);
  });
  after(() => ems.close());

  it('walks every meter exactly once while meters are added and deleted between pages', async () => {
    const { services } = ems;
    const before = new Set(services.registry.meterIds());
    const deleted: string[] = [];
    const added: string[] = [];
    const pages = await walk(ems.call, ems.admin, 7, (page) => {
      // Delete a meter ahead of the cursor and one behind it; add one ahead and one behind.
      const ahead = `m${String(page * 7 + 3).padStart(3, '0')}`;
      const behind = `m${String(page * 7 - 3).padStart(3, '0')}`;
      for (const id of [ahead, behind]) {
        if (services.registry.meterIds().includes(id)) { services.registry.deleteMeter(id); deleted.push(id); }
      }
      for (const id of [`m${String(page * 7 + 2).padStart(3, '0')}x`, `m${String(page * 7 - 2).padStart(3, '0')}x`]) {
        services.registry.createMeter({ folder_id: folders[0], name: id, ...modbus(page) }, undefined, id);
        added.push(id);
      }
    });
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, `a meter answered twice: ${seen.filter((id, i) => seen.indexOf(id) !== i)}`);
    assert.deepEqual(seen, [...seen].sort(), 'pages are in id order');
    // Every meter that existed for the whole walk was answered; no deleted meter after its deletion.
    for (const id of before) if (!deleted.includes(id)) assert.ok(seen.includes(id), `meter ${id} never answered`);
    assert.ok(deleted.length > 10 && added.length > 10, `the walk changed the fleet (${deleted.length} deleted, ${added.length} added)`);
    // Every page but the last is full.
    for (const p of pages.slice(0, -1)) assert.equal(p.length, 7);
  });

  it('a viewer sees only their folders\' meters on every page', async () => {
    const token = await ems.userToken('vera', 'viewer', [folders[1]]);
    const own = new Set(ems.services.registry.meters().filter((m) => m.folder_id === folders[1]).map((m) => m._id));
    assert.ok(own.size >= 10, `${own.size} meters in South`);
    const pages = await walk(ems.call, token, 4);
    assert.ok(pages.length >= 4, `${pages.length} pages`);
    for (const [i, p] of pages.entries()) for (const id of p) assert.ok(own.has(id), `page ${i} shows meter ${id} of another folder`);
    assert.deepEqual(pages.flat().sort(), [...own].sort());
    // A cursor does not open other folders: the admin's cursor used by the viewer still answers only hers.
    const adminPage = await ems.call('meters.list', { token: ems.admin, query: { limit: '1' } });
    const theirs = await ems.call('meters.list', { token, query: { cursor: adminPage.body.next_cursor } });
    for (const m of theirs.body.data) assert.ok(own.has(m._id));
  });

  it('answers the default page without limit, with next_cursor null on the last page', async () => {
    const r = await ems.call('meters.list', { token: ems.admin });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.length, ems.services.registry.meterCount());
    assert.equal(r.body.next_cursor, null);
    assert.ok(METER_PAGE.default >= 100);
  });

  it('refuses a bad limit or cursor with 400 naming the field and the value', async () => {
    const bad = async (query: Record<string, unknown>, re: RegExp) => {
      const r = await ems.call('meters.list', { token: ems.admin, query });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error, re);
    };
    await bad({ limit: '0' }, /^limit "0" must be an integer from 1 to \d+/);
    await bad({ limit: String(METER_PAGE.max + 1) }, new RegExp(`^limit "${METER_PAGE.max + 1}"`));
    await bad({ limit: 'ten' }, /^limit "ten"/);
    await bad({ cursor: 'not a cursor!' }, /^cursor "not a cursor!" is not a cursor/);
    await bad({ cursor: Buffer.from('{"l":"meters","k":5}').toString('base64url') }, /^cursor "[^"]+" is not a cursor/);
    await bad({ cursor: Buffer.from('{"l":"users","k":"a"}').toString('base64url') }, /belongs to the list users/);
    await bad({ page: '2' }, /^unknown parameter "page"/);
  });

  it('answers the folder tree without its meter leaves (meters=false)', async () => {
    const whole = await ems.call('folders.tree', { token: ems.admin });
    assert.ok(whole.body.data[0].child_folders.some((n: { folder_type: string }) => n.folder_type === 'meter'));
    const bare = await ems.call('folders.tree', { token: ems.admin, query: { meters: 'false' } });
    assert.deepEqual(bare.body.data.map((f: { name: string }) => f.name), ['East', 'North', 'South']);
    for (const f of bare.body.data) assert.deepEqual(f.child_folders, []);
    const bad = await ems.call('folders.tree', { token: ems.admin, query: { meters: 'no' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^meters "no" must be true or false/);
  });

  it('lists one folder\'s meters (?folder= and the dictionary\'s ?list=<folder>) a page at a time', async () => {
    const inSouth = ems.services.registry.meters().filter((m) => m.folder_id === folders[1]).map((m) => m._id);
    const p1 = await ems.call('meters.list', { token: ems.admin, query: { folder: folders[1], limit: '5' } });
    assert.deepEqual(p1.body.data.map((m: { _id: string }) => m._id), inSouth.slice(0, 5));
    const p2 = await ems.call('meters.list', { token: ems.admin, query: { list: folders[1], limit: '5', cursor: p1.body.next_cursor } });
    assert.deepEqual(p2.body.data.map((m: { _id: string }) => m._id), inSouth.slice(5, 10));
  });
});

describe('API: POST /api/meters/bulk', () => {
  let ems: Awaited<ReturnType<typeof openEms>>;
  let folder: string;
  before(async () => {
    ems = await openEms(2_000);
    folder = ems.services.registry.createFolder({ name: 'Plant' })._id;
  });
  after(() => ems.close());

  it('creates nothing when any item is refused, and names every refusal by index and field', async () => {
    let told = 0;
    const listener = () => { told++; };
    ems.services.changes.on('change', listener);
    const meters = [
      { _id: 'b-ok-1', folder_id: folder, name: 'OK 1', ...modbus(1) },
      { _id: 'b-bad-port', folder_id: folder, name: 'Bad port', ...modbus(2), port: 'x' },
      { _id: 'b-ok-1', folder_id: folder, name: 'Duplicate id', ...modbus(3) },
      { _id: 'b-no-folder', folder_id: 'nowhere', name: 'No folder', ...modbus(4) },
      { _id: 'b-ok-2', folder_id: folder, name: 'OK 2', ...modbus(5), parent_meter: 'b-ok-1' },
      'not an object',
    ];
    const before = ems.services.registry.meterCount();
    const r = await ems.call('meters.bulk', { token: ems.admin, body: { meters } });
    ems.services.changes.off('change', listener);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.error, /^no meter was created: 4 of 6 refused; the first: meters\[1\] \(port\)/);
    const errors = r.body.data.errors.map((e: { index: number; field: string | null }) => [e.index, e.field]);
    assert.deepEqual(errors, [[1, 'port'], [2, '_id'], [3, 'folder_id'], [5, null]]);
    for (const e of r.body.data.errors) assert.ok(e.message.length > 10);
    assert.equal(ems.services.registry.meterCount(), before, 'nothing created');
    assert.throws(() => ems.services.registry.meter('b-ok-1'), /unknown meter/);
    assert.equal(told, 0, 'no change told');
    // The refused batch left no id retired or taken: the good items go through on their own.
    const ok = await ems.call('meters.bulk', { token: ems.admin, body: { meters: [meters[0], meters[4]] } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.data.map((m: { _id: string }) => m._id), ['b-ok-1', 'b-ok-2']);
    assert.equal(ems.services.registry.meter('b-ok-2').definition.parent_meter, 'b-ok-1');
  });

  it('creates a batch with one change told for it, then lists it', async () => {
    const seen: { ids?: string[] }[] = [];
    const listener = (c: { ids?: string[] }) => seen.push(c);
    ems.services.changes.on('change', listener);
    const meters = Array.from({ length: 250 }, (_, i) => ({ folder_id: folder, name: `Batch ${i}`, ...modbus(i), password: 'pw' }));
    const r = await ems.call('meters.bulk', { token: ems.admin, body: { meters } });
    ems.services.changes.off('change', listener);
    assert.equal(r.status, 201, JSON.stringify(r.body).slice(0, 300));
    assert.equal(r.body.data.length, 250);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].ids?.length, 250);
    assert.equal(ems.services.registry.meter(r.body.data[7]._id).definition.password, 'pw');
    assert.equal(r.body.data[7].definition.password, undefined, 'no password in the answer');
    const logged = ems.services.events.query({ filter: 'config', limit: '1000' }).filter((e) => e.event === 'meter created');
    assert.ok(logged.length >= 250, `${logged.length} creation events`);
  });

  it('imports meters from a CSV table, all or none, naming the row, the field and the line', async () => {
    const header = '_id;folder_id;name;protocol;profile;ip_address;port;connection_address;days_of_week';
    const row = (id: string, port: string, folderId = folder) => `${id};${folderId};CSV ${id};modbus-tcp;eastron-sdm630;127.0.0.1;${port};7;"1,2,3"`;
    const bad = await ems.call('meters.bulk', { token: ems.admin, body: { csv: [header, row('csv-1', '502'), row('csv-2', 'x'), row('csv-3', '502', 'nowhere')].join('\n') } });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.deepEqual(bad.body.data.errors.map((e: { index: number; field: string; line: number }) => [e.index, e.field, e.line]), [[1, 'port', 3], [2, 'folder_id', 4]]);
    assert.throws(() => ems.services.registry.meter('csv-1'), /unknown meter/);
    const ok = await ems.call('meters.bulk', { token: ems.admin, body: { csv: [header, row('csv-1', '502'), row('csv-2', '5020')].join('\r\n') } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const m = ems.services.registry.meter('csv-2');
    assert.equal(m.definition.port, 5020);
    assert.deepEqual(m.definition.days_of_week, [1, 2, 3]);
    const column = await ems.call('meters.bulk', { token: ems.admin, body: { csv: 'name;colour\nA;red' } });
    assert.equal(column.status, 400);
    assert.match(column.body.error, /^csv: column 2 "colour" is not a meter field/);
    const both = await ems.call('meters.bulk', { token: ems.admin, body: { csv: header, meters: [] } });
    assert.match(both.body.error, /send meters .* or csv .*, one of the two/);
  });

  it('refuses an empty or too long list, and a batch beyond the license', async () => {
    const tooMany = Array.from({ length: MAX_BULK_METERS + 1 }, (_, i) => ({ folder_id: folder, name: `T ${i}`, ...modbus(i) }));
    for (const meters of [[], tooMany, 'x']) {
      const r = await ems.call('meters.bulk', { token: ems.admin, body: { meters } });
      assert.equal(r.status, 400);
      assert.match(r.body.error, new RegExp(`^meters .* must be a list of 1 to ${MAX_BULK_METERS} meter bodies`));
    }
    const small = await openEms(3);
    try {
      const f = small.services.registry.createFolder({ name: 'Small' })._id;
      const over = Array.from({ length: 4 }, (_, i) => ({ folder_id: f, name: `Over ${i}`, ...modbus(i) }));
      const r = await small.call('meters.bulk', { token: small.admin, body: { meters: over } });
      assert.equal(r.status, 403, JSON.stringify(r.body).slice(0, 300));
      assert.match(r.body.error, /cannot create meter number 4: .*meter_limit is 3/);
      assert.equal(small.services.registry.meterCount(), 0);
    } finally { await small.close(); }
  });

  it('needs an operator, within their folders', async () => {
    const viewer = await ems.userToken('vic', 'viewer', []);
    assert.equal((await ems.call('meters.bulk', { token: viewer, body: { meters: [{ folder_id: folder, name: 'V', ...modbus(1) }] } })).status, 403);
    const other = ems.services.registry.createFolder({ name: 'Other' })._id;
    const op = await ems.userToken('otto', 'operator', [other]);
    const r = await ems.call('meters.bulk', { token: op, body: { meters: [{ folder_id: other, name: 'Mine', ...modbus(1) }, { folder_id: folder, name: 'Not mine', ...modbus(2) }] } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.data.errors.map((e: { index: number; field: string }) => [e.index, e.field]), [[1, 'folder_id']]);
  });
});

describe('API lists: the other lists page too', () => {
  it('walks events newest first with cursor, events of one instant included once each', async () => {
    const ems = await openEms(100);
    try {
      for (let i = 0; i < 25; i++) ems.services.events.add({ kind: 'config', event: `paged event ${i}` }); // all at NOW: ties broken by id
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const r = await ems.call('events.list', { token: ems.admin, query: { filter: 'paged event', limit: '10', ...(cursor ? { cursor } : {}) } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        seen.push(...r.body.data.map((e: { event: string }) => e.event));
        cursor = r.body.next_cursor ?? undefined;
        if (!cursor) break;
      }
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `paged event ${24 - i}`));
      const bad = await ems.call('events.list', { token: ems.admin, query: { cursor: Buffer.from('{"l":"events","k":"soon"}').toString('base64url') } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /^cursor "[^"]+" is not a cursor/);
    } finally { await ems.close(); }
  });

  it('pages users, tariffs and energy categories by key, each item once', async () => {
    const ems = await openEms(100);
    try {
      for (const login of ['zoe', 'adam', 'mia', 'bob']) await ems.services.users.create({ login, name: login, password: `quiet-lamp-0417-${login.length}`, role: 'viewer', open_folders: [] });
      const logins: string[] = [];
      let cursor: string | undefined;
      do {
        const r = await ems.call('users.list', { token: ems.admin, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        logins.push(...r.body.data.map((u: { login: string }) => u.login));
        cursor = r.body.next_cursor ?? undefined;
      } while (cursor);
      assert.deepEqual(logins, ['adam', 'admin', 'bob', 'mia', 'zoe']);
      const all = (await ems.call('energy-categories.list', { token: ems.admin })).body.data.map((c: { id: string }) => c.id);
      const first = await ems.call('energy-categories.list', { token: ems.admin, query: { limit: '3' } });
      const rest = await ems.call('energy-categories.list', { token: ems.admin, query: { cursor: first.body.next_cursor } });
      assert.deepEqual([...first.body.data, ...rest.body.data].map((c: { id: string }) => c.id), all);
      const wrongList = await ems.call('tariffs.list', { token: ems.admin, query: { cursor: first.body.next_cursor } });
      assert.equal(wrongList.status, 400);
      assert.match(wrongList.body.error, /belongs to the list energy-categories/);
    } finally { await ems.close(); }
  });
});

describe('Registry in memory: changes without a reload', () => {
  it('keeps reads in step with create, update, move and delete, and answers an unchanged meter\'s definition as the same object', async () => {
    const ems = await openEms(100);
    try {
      const { registry } = ems.services;
      const [a, b] = ['A', 'B'].map((name) => registry.createFolder({ name })._id);
      registry.createMeter({ folder_id: a, name: 'One', ...modbus(1), password: 'secret-1' }, undefined, 'one');
      registry.createMeter({ folder_id: a, name: 'Two', ...modbus(2) }, undefined, 'two');
      const first = registry.meters();
      assert.equal(registry.meters()[0].definition, first[0].definition, 'the same object while unchanged');
      assert.ok(Object.isFrozen(first[0].definition));
      assert.equal(first[0].definition.password, 'secret-1');
      registry.updateMeter('one', { folder_id: b, port: 1502 });
      const after = registry.meters();
      assert.notEqual(after[0].definition, first[0].definition, 'a changed meter is a new object');
      assert.equal(after[0].definition.port, 1502);
      assert.equal(after[1].definition, first[1].definition);
      assert.deepEqual(registry.meterIds(registry.scopeOf([b])), ['one']);
      assert.deepEqual(registry.meterIds(registry.scopeOf([a])), ['two']);
      registry.deleteMeter('two');
      assert.deepEqual(registry.meterIds(), ['one']);
      assert.equal(registry.meterCount(), 1);
      assert.throws(() => registry.createMeter({ folder_id: a, name: 'Again', ...modbus(3) }, undefined, 'two'), /never reused/);
      // The database holds what memory holds: a registry opened afresh on it reads the same.
      const rows = ems.services.db.prepare('SELECT id, folder_id FROM meters ORDER BY id').all();
      assert.deepEqual(rows, [{ id: 'one', folder_id: b }]);
    } finally { await ems.close(); }
  });
});

describe('API lists at 10,000 meters', () => {
  it('lists 10,000 meters page by page, each page visiting about its own meters (a counter of work, not a timing)', async () => {
    const ems = await openEms(20_000);
    try {
      const folders = Array.from({ length: 10 }, (_, i) => ems.services.registry.createFolder({ name: `Site ${i}` })._id);
      for (let start = 0; start < 10_000; start += MAX_BULK_METERS) {
        const meters = Array.from({ length: MAX_BULK_METERS }, (_, k) => ({ _id: `f${String(start + k).padStart(5, '0')}`, folder_id: folders[(start + k) % 10], name: `F ${start + k}`, ...modbus(k) }));
        const r = await ems.call('meters.bulk', { token: ems.admin, body: { meters } });
        assert.equal(r.status, 201, JSON.stringify(r.body).slice(0, 300));
      }
      await ems.store.write(Array.from({ length: 10_000 }, (_, i) => ({ meter: `f${String(i).padStart(5, '0')}`, obis: '1-0:1.8.0', time: NOW - 60_000, value: i, unit: 'kWh' })));
      const work0 = ems.services.registry.pageWork;
      const pages = await walk(ems.call, ems.admin, 500);
      assert.equal(pages.length, 20);
      assert.equal(pages.flat().length, 10_000);
      assert.equal(new Set(pages.flat()).size, 10_000);
      const work = ems.services.registry.pageWork - work0;
      // Each page visits its 500 meters and looks at one more: the walk's work is the fleet, not pages x fleet.
      assert.ok(work <= 10_000 + 20, `walking 20 pages visited ${work} meters`);
      const one = await ems.call('meters.list', { token: ems.admin, query: { limit: '3', cursor: Buffer.from('{"l":"meters","k":"f05000"}').toString('base64url') } });
      assert.deepEqual(one.body.data.map((m: { _id: string; values: { value: number }[] }) => [m._id, m.values[0].value]), [['f05001', 5001], ['f05002', 5002], ['f05003', 5003]]);
    } finally { await ems.close(); }
  });
});
