/**
 * "Safe by default", meter definitions and scoping: ids never reused, passwords sealed at rest,
 * known Modbus profiles, poll networks, what a scoped user sees, retention.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation } from '../../lib/ems/api';
import { openEmsDb } from '../../lib/ems/db';
import { pruneOnce, retentionFromEnv } from '../../lib/ems/maintenance';
import { PollJobs } from '../../lib/ems/poll-jobs';
import { isAllowedAddress, parsePollNetworks } from '../../lib/ems/poll-networks';
import { RawResponses } from '../../lib/ems/raw-responses';
import type { NewEvent } from '../../lib/ems/event-log';
import { credentialSecretFromEnv, DEMO_CREDENTIAL_SECRET, SecretBox } from '../../lib/ems/secret-box';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const DAY = 86_400_000;
const ADMIN = { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' };
const sdm = (folder_id: string, name: string, extra: Record<string, unknown> = {}) =>
  ({ folder_id, name, protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1', ...extra });

type Answer = { status: number; data: any; error: string | null };

/** An EMS on ":memory:" with folders A and B, an admin, Olga (operator, folder A) and Vera (viewer, every folder). */
async function ems(opts: { pollNetworks?: string } = {}) {
  const services = await openEmsServices({ file: ':memory:', env: ADMIN, now: () => NOW, ...opts });
  const a = services.registry.createFolder({ name: 'A' });
  const b = services.registry.createFolder({ name: 'B' });
  await services.users.create({ login: 'olga', name: 'Olga', password: 'operator-secret', role: 'operator', open_folders: [a._id] });
  await services.users.create({ login: 'vera', name: 'Vera', password: 'viewer-secret', role: 'viewer' });
  const tokens: Record<string, string> = {
    boss: (await services.auth.login('boss', 'chief-pass-0417')).access_token,
    olga: (await services.auth.login('olga', 'operator-secret')).access_token,
    vera: (await services.auth.login('vera', 'viewer-secret')).access_token,
  };
  const store = new SqliteStore({ path: ':memory:' });
  const bills = new BillStore(':memory:');
  const call = async (op: string, who: string, c: { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown } = {}): Promise<Answer> => {
    const answer = await runOperation(operationByName(op)!, {
      services, store, bills, timeZone: 'UTC', now: () => NOW,
      request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: { authorization: `Bearer ${tokens[who]}` }, cookies: {} },
    });
    return { status: answer.status, ...(answer.body as { data: unknown; error: string | null }) };
  };
  const close = async () => { services.close(); await store.close(); };
  return { services, a, b, call, close };
}

describe('meter ids are never reused', () => {
  it('retires the id of a deleted meter: creating it again is 409 naming the id; generated ids skip it', async () => {
    const { services, a, call, close } = await ems();
    try {
      assert.equal((await call('meters.create', 'boss', { body: { _id: 'main', ...sdm(a._id, 'Main') } })).status, 201);
      assert.equal((await call('meters.delete', 'boss', { params: { id: 'main' } })).status, 200);
      const again = await call('meters.create', 'boss', { body: { _id: 'main', ...sdm(a._id, 'Other main') } });
      assert.equal(again.status, 409);
      assert.match(again.error!, /^meter id "main" belonged to a meter deleted on 2026-11-21T12:00:00.000Z; meter ids are never reused/);
      const generated = await call('meters.create', 'boss', { body: sdm(a._id, 'Main') });
      assert.equal(generated.data._id, 'main-2');
      assert.equal(services.registry.retiredAt('main'), NOW);
    } finally { await close(); }
  });

  it('does not tell a scoped user whether an id is used in another folder or retired', async () => {
    const { services, a, b, call, close } = await ems();
    try {
      services.registry.createMeter(sdm(b._id, 'B meter'), undefined, 'b-meter');
      services.registry.createMeter(sdm(b._id, 'Gone'), undefined, 'gone');
      services.registry.deleteMeter('gone');
      for (const id of ['b-meter', 'gone']) {
        const r = await call('meters.create', 'olga', { body: { _id: id, ...sdm(a._id, 'Mine') } });
        assert.equal(r.status, 409);
        assert.equal(r.error, `meter id "${id}" is not available (in use or used before); meter ids are never reused: choose another id`);
      }
    } finally { await close(); }
  });

  it('recovers the ids of meters deleted before the table existed from their events (migration 9)', () => {
    const db = openEmsDb(':memory:', []);
    const { MIGRATIONS, migrate } = require('../../lib/ems/db') as typeof import('../../lib/ems/db');
    migrate(db, MIGRATIONS.filter((m) => m.version < 9));
    db.prepare("INSERT INTO events (time, meter_id, meter_name, event, kind, level) VALUES (?, 'old', 'Old meter', 'meter deleted', 'config', 'info')").run(NOW - DAY);
    migrate(db);
    assert.deepEqual(db.prepare('SELECT id, retired_at, name FROM retired_meter_ids').all(), [{ id: 'old', retired_at: NOW - DAY, name: 'Old meter' }]);
    db.close();
  });
});

describe('meter passwords are sealed at rest', () => {
  it('stores "enc:v1:", opens it for the poll jobs, never answers it', async () => {
    const { services, a, call, close } = await ems();
    try {
      const created = await call('meters.create', 'boss', { body: { _id: 'zmd', ...sdm(a._id, 'ZMD', { protocol: 'iec62056-21', profile: '', connection_address: '', password: 'P1-secret' }) } });
      assert.equal(created.status, 201, created.error!);
      const row = services.db.prepare('SELECT definition FROM meters WHERE id = ?').get('zmd') as { definition: string };
      assert.ok(!row.definition.includes('P1-secret'));
      assert.match(JSON.parse(row.definition).password, /^enc:v1:[A-Za-z0-9+/=]+$/);
      assert.equal(services.registry.meter('zmd').definition.password, 'P1-secret');
      const shown = await call('meters.get', 'boss', { params: { id: 'zmd' } });
      assert.equal(shown.data.definition.password, undefined);
      assert.equal(shown.data.definition.password_set, true);
      const tree = JSON.stringify((await call('folders.tree', 'boss')).data);
      assert.ok(!tree.includes('enc:v1') && !tree.includes('P1-secret') && tree.includes('"password_set":true'));
      // An update of another field keeps the password; the stored value stays sealed.
      await call('meters.update', 'boss', { params: { id: 'zmd' }, body: { name: 'ZMD 2' } });
      assert.equal(services.registry.meter('zmd').definition.password, 'P1-secret');
    } finally { await close(); }
  });

  it('seals plain passwords of an older database on open; another secret cannot read them (warning event)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ems-seal-')), 'ems.db');
    const db = openEmsDb(file);
    db.prepare("INSERT INTO folders (id, name, folder_type) VALUES ('f', 'F', 'folder')").run();
    db.prepare('INSERT INTO meters (id, folder_id, definition, created_at, updated_at) VALUES (?, ?, ?, 0, 0)')
      .run('gw', 'f', JSON.stringify({ name: 'Gateway', protocol: 'lorawan-platform', password: 'karly:123456', ip_address: '127.0.0.1', port: 80 }));
    db.close();
    let s = await openEmsServices({ file, env: { ...ADMIN, EMS_CREDENTIAL_SECRET: 'site secret one' } });
    const stored = (s.db.prepare('SELECT definition FROM meters').get() as { definition: string }).definition;
    assert.match(JSON.parse(stored).password, /^enc:v1:/);
    assert.equal(s.registry.meter('gw').definition.password, 'karly:123456');
    s.close();
    s = await openEmsServices({ file, env: ADMIN }); // the demo secret
    assert.equal(s.registry.meter('gw').definition.password, '');
    const warning = s.events.query({ filter: 'system' }).find((e) => e.meter_id === 'gw');
    assert.match(warning!.event, /meter "gw": its stored password cannot be read \(it was sealed with another EMS_CREDENTIAL_SECRET\)/);
    s.close();
  });

  it('credentialSecretFromEnv: the variable, else the documented demo secret', () => {
    assert.equal(credentialSecretFromEnv({ EMS_CREDENTIAL_SECRET: 'x'.repeat(32) }), 'x'.repeat(32));
    assert.equal(credentialSecretFromEnv({ EMS_CREDENTIAL_SECRET: '  ' }), DEMO_CREDENTIAL_SECRET);
    assert.equal(credentialSecretFromEnv({}), DEMO_CREDENTIAL_SECRET);
    const box = new SecretBox('one');
    assert.equal(box.open(box.seal('pw')), 'pw');
    assert.notEqual(box.seal('pw'), box.seal('pw'), 'a fresh IV each time');
    assert.equal(box.open('plain old'), 'plain old');
    assert.throws(() => new SecretBox('two').open(box.seal('pw')), /sealed with another EMS_CREDENTIAL_SECRET/);
  });
});

describe('definition fields are bounded', () => {
  let x: Awaited<ReturnType<typeof ems>>;
  before(async () => { x = await ems(); });
  after(() => x.close());

  const refused = async (body: Record<string, unknown>, error: RegExp) => {
    const r = await x.call('meters.create', 'boss', { body: sdm(x.a._id, 'M', body) });
    assert.equal(r.status, 400, JSON.stringify(r));
    assert.match(r.error!, error);
  };

  it('a Modbus profile must name a known register map', async () => {
    await refused({ profile: '../../etc/passwd' }, /^profile "\.\.\/\.\.\/etc\/passwd" is not a known Modbus register map \(known: .*eastron-sdm630/);
    await refused({ profile: 'no-such-meter' }, /^profile "no-such-meter" is not a known Modbus register map/);
    assert.equal((await x.call('meters.update', 'boss', { params: { id: 'nope' }, body: {} })).status, 404);
  });

  it('path-like or oversized values of the other protocols are refused', async () => {
    await refused({ protocol: 'mbus', profile: '../../etc/passwd' }, /^profile "\.\.\/\.\.\/etc\/passwd" must be a profile name/);
    await refused({ protocol: 'lorawan-platform', profile: '/internal/../../admin' }, /^profile "\/internal\/\.\.\/\.\.\/admin" must be empty or the platform's URL path/);
    await refused({ protocol: 'lorawan-platform', profile: 'http://elsewhere/x' }, /must be empty or the platform's URL path/);
    const platform = await x.call('meters.create', 'boss', { body: sdm(x.a._id, 'Platform', { protocol: 'lorawan-platform', connection_address: '1', profile: '/internal/commonInternal.jsp' }) });
    assert.equal(platform.status, 201, platform.error!);
    await refused({ ip_address: '../../etc/passwd' }, /^ip_address "\.\.\/\.\.\/etc\/passwd" must be a host name, an IP address or a serial device path/);
    await refused({ ip_address: '/etc/passwd', port: 0 }, /^ip_address "\/etc\/passwd" must be a serial device path under \/dev/);
    await refused({ ip_address: '/dev/../etc/passwd', port: 0 }, /serial device path under \/dev/);
    await refused({ name: 'x'.repeat(10_000) }, /^name "x{40}\.\.\." must be at most 100 characters/);
    await refused({ number_meter: 'a\nb' }, /^number_meter "a\\nb" must not contain control characters/);
    const serial = await x.call('meters.create', 'boss', { body: sdm(x.a._id, 'Serial', { protocol: 'mbus', ip_address: '/dev/ttyUSB0', port: 0 }) });
    assert.equal(serial.status, 201, serial.error!);
  });
});

describe('poll networks (EMS_POLL_NETWORKS)', () => {
  it('parses CIDRs, naming a bad entry, and matches IPv4, IPv6 and IPv4-mapped addresses', () => {
    const def = parsePollNetworks(undefined);
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.31.255.255', '192.168.1.10', '169.254.1.1', '::1', 'fd00::5', 'fe80::1%eth0', '::ffff:192.168.0.9']) {
      assert.ok(isAllowedAddress(ip, def), ip);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:8.8.8.8', 'example.com']) assert.ok(!isAllowedAddress(ip, def), ip);
    const mine = parsePollNetworks(' 203.0.113.0/24 , 2001:db8::/32 ');
    assert.ok(isAllowedAddress('203.0.113.77', mine) && isAllowedAddress('2001:db8:1::1', mine) && !isAllowedAddress('127.0.0.1', mine));
    assert.throws(() => parsePollNetworks('10.0.0.0/8,10.0.0.300/8'), /^Error: EMS_POLL_NETWORKS: "10.0.0.300\/8" is not a network in CIDR form/);
    assert.throws(() => parsePollNetworks('10.0.0.0/33'), /"10.0.0.0\/33"/);
    assert.throws(() => parsePollNetworks('10.0.0.0'), /"10.0.0.0"/);
  });

  it('refuses a definition whose IP is outside, naming the address and EMS_POLL_NETWORKS; the setting widens it', async () => {
    const x = await ems();
    try {
      const r = await x.call('meters.create', 'boss', { body: sdm(x.a._id, 'Far', { ip_address: '8.8.8.8' }) });
      assert.equal(r.status, 400);
      assert.match(r.error!, /^ip_address "8.8.8.8" is outside the networks meters may be polled in \(EMS_POLL_NETWORKS: 127.0.0.0\/8,/);
      assert.equal((await x.call('meters.create', 'boss', { body: sdm(x.a._id, 'Near', { ip_address: '192.168.7.20' }) })).status, 201);
      assert.equal((await x.call('meters.create', 'boss', { body: sdm(x.a._id, 'Named', { ip_address: 'meter.example.com' }) })).status, 201, 'host names are checked at poll time');
    } finally { await x.close(); }
    const wide = await ems({ pollNetworks: '0.0.0.0/0' });
    try {
      assert.equal((await wide.call('meters.create', 'boss', { body: sdm(wide.a._id, 'Far', { ip_address: '8.8.8.8' }) })).status, 201);
    } finally { await wide.close(); }
  });

  it('fails the poll of a host name that resolves outside, with an event naming the meter and the address', async () => {
    const sent: string[] = [];
    const events: NewEvent[] = [];
    let n = 0;
    const jobs = new PollJobs({
      send: (m) => sent.push(m.topic), addEvent: (e) => events.push(e), newId: () => `p${++n}`,
      networks: parsePollNetworks(undefined),
      lookup: async (host) => (host === 'evil.example' ? ['10.0.0.2', '93.184.216.34'] : host === 'gw.plant' ? ['10.0.0.7'] : Promise.reject(new Error('ENOTFOUND'))),
    });
    const record = (id: string, ip: string) => ({ _id: id, folder_id: 'f', created_at: 0, updated_at: 0, definition: { ...sdm('f', `Meter ${id}`, { ip_address: ip, port: 502 }), password: '' } as any });
    await jobs.start(record('evil', 'evil.example'), NOW);
    await jobs.start(record('far', '8.8.4.4'), NOW);
    await jobs.start(record('ghost', 'nowhere.invalid'), NOW);
    const ok = jobs.start(record('good', 'gw.plant'), NOW);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['good']);
    jobs.answer('p4');
    await ok;
    assert.deepEqual(events.map((e) => [e.kind, e.meter_id, e.meter_name, e.event]), [
      ['poll-failed', 'evil', 'Meter evil', 'poll failed: address "evil.example" (93.184.216.34) is outside the networks meters may be polled in (EMS_POLL_NETWORKS)'],
      ['poll-failed', 'far', 'Meter far', 'poll failed: address "8.8.4.4" is outside the networks meters may be polled in (EMS_POLL_NETWORKS)'],
      ['poll-failed', 'ghost', 'Meter ghost', 'poll failed: cannot resolve host "nowhere.invalid": ENOTFOUND'],
    ]);
    assert.equal(jobs.state('evil').failures, 1);
    assert.equal(jobs.state('good').last?.ok, true);
  });

  it('polls a raw TCP meter at the address it checked (no DNS rebinding); an HTTP gateway keeps its name', async () => {
    const sent: any[] = [];
    let n = 0;
    let answers = ['10.0.0.7'];
    const jobs = new PollJobs({
      send: (m) => sent.push(m), addEvent: () => undefined, newId: () => `q${++n}`,
      networks: parsePollNetworks(undefined),
      lookup: async () => answers,
    });
    const record = (id: string, protocol: string) => ({ _id: id, folder_id: 'f', created_at: 0, updated_at: 0, definition: { ...sdm('f', `Meter ${id}`, { ip_address: 'gw.plant', port: 502 }), protocol, password: '' } as any });
    const polls = ['modbus-tcp', 'hex', 'p1', 'sml', 'g13'].map((p) => jobs.start(record(p, p), NOW));
    await new Promise((r) => setImmediate(r));
    answers = ['93.184.216.34']; // the name now points outside: the polls already sent are not moved
    assert.deepEqual(sent.map((m) => [m.topic, m.meter.ip_address, m.endpoint?.host ?? null]), [
      ['modbus-tcp', '10.0.0.7', '10.0.0.7'], ['hex', '10.0.0.7', null], ['p1', '10.0.0.7', null], ['sml', '10.0.0.7', null], ['g13', 'gw.plant', null],
    ]);
    for (let i = 1; i <= 5; i++) jobs.answer(`q${i}`);
    await Promise.all(polls);
  });
});

describe('a scoped user sees nothing of other folders (404, not 403)', () => {
  let x: Awaited<ReturnType<typeof ems>>;
  before(async () => {
    x = await ems();
    x.services.registry.createMeter(sdm(x.a._id, 'A meter'), undefined, 'a-meter');
    x.services.registry.createMeter(sdm(x.b._id, 'B meter'), undefined, 'b-meter');
    new RawResponses(x.services.db, () => NOW).add('b-meter', '0103');
    x.services.events.add({ kind: 'poll-failed', level: 'error', event: 'poll failed: timeout', meter_id: 'b-meter', meter_name: 'B meter' });
  });
  after(() => x.close());

  it('events: no configuration events of other folders (their names), no logins of others, no system events', async () => {
    x.services.events.add({ kind: 'login', event: 'logged in', source: 'boss@127.0.0.1' });
    x.services.events.add({ kind: 'login', event: 'logged in', source: 'olga@10.0.0.4' });
    const seen = (await x.call('events.list', 'olga')).data as { meter_id: string | null; event: string; kind: string; source: string | null }[];
    assert.ok(seen.every((e) => e.meter_id === 'a-meter' || (e.kind === 'login' && e.source?.startsWith('olga@'))), JSON.stringify(seen));
    assert.ok(!JSON.stringify(seen).includes('"B"') && !JSON.stringify(seen).includes('B meter'));
    assert.ok(seen.some((e) => e.kind === 'login'));
    const vera = (await x.call('events.list', 'vera')).data as { kind: string; source: string | null }[];
    assert.ok(vera.every((e) => (e.kind !== 'login' || e.source?.startsWith('vera@')) && e.kind !== 'system'), 'an unscoped viewer sees no one else\'s logins');
    assert.ok(vera.some((e) => e.kind === 'poll-failed'));
    const boss = (await x.call('events.list', 'boss', { query: { filter: 'login' } })).data as { source: string | null }[];
    for (const who of ['boss@127.0.0.1', 'olga@10.0.0.4']) assert.ok(boss.some((e) => e.source === who), `the admin sees ${who}'s login`);
    assert.equal((await x.call('events.list', 'olga', { query: { meter: 'b-meter' } })).status, 404);
  });

  it('meters, folders, raw responses, polling: other folders are 404', async () => {
    assert.equal((await x.call('meters.get', 'olga', { params: { id: 'b-meter' } })).status, 404);
    assert.equal((await x.call('meters.update', 'olga', { params: { id: 'b-meter' }, body: { name: 'x' } })).status, 404);
    assert.equal((await x.call('meters.delete', 'olga', { params: { id: 'b-meter' } })).status, 404);
    assert.equal((await x.call('meters.responses', 'olga', { params: { id: 'b-meter' } })).status, 404);
    assert.equal((await x.call('folders.get', 'olga', { params: { id: x.b._id } })).status, 404);
    assert.equal((await x.call('folders.update', 'olga', { params: { id: x.b._id }, body: { name: 'x' } })).status, 404);
    assert.equal((await x.call('meters.update', 'olga', { params: { id: 'a-meter' }, body: { folder_id: x.b._id } })).status, 404);
    const tree = JSON.stringify((await x.call('folders.tree', 'olga')).data);
    assert.ok(!tree.includes('"B"') && !tree.includes('b-meter'));
  });

  it('a scoped user cannot move their folder to the top level (403, like creating one there)', async () => {
    const sub = x.services.registry.createFolder({ name: 'A1', parent_id: x.a._id });
    const r = await x.call('folders.update', 'olga', { params: { id: sub._id }, body: { parent_id: null } });
    assert.equal(r.status, 403);
    assert.match(r.error!, /only users with every folder open may move a folder to the top level/);
  });

  it('accounting objects: an object above only other folders\' meters is hidden; a 409 names no hidden child', async () => {
    const o = x.services.objects;
    const siteB = o.create({ name: 'Site B substation' });
    o.create({ name: 'B feeder', meter_id: 'b-meter', parent_id: siteB._id });
    const shared = o.create({ name: 'Plant' });
    o.create({ name: 'A feeder', meter_id: 'a-meter', parent_id: shared._id });
    o.create({ name: 'Secret B feeder', meter_id: 'b-meter', parent_id: shared._id });
    o.create({ name: 'Notes' });
    const names = JSON.stringify((await x.call('objects.list', 'olga')).data);
    assert.ok(!names.includes('Site B substation') && !names.includes('B feeder'), names);
    assert.ok(names.includes('Plant') && names.includes('A feeder') && names.includes('Notes'));
    assert.equal((await x.call('objects.get', 'olga', { params: { id: siteB._id } })).status, 404);
    assert.equal((await x.call('objects.update', 'olga', { params: { id: siteB._id }, body: { name: 'x' } })).status, 404);
    const del = await x.call('objects.delete', 'olga', { params: { id: shared._id } });
    assert.equal(del.status, 409);
    assert.equal(del.error, 'accounting object "Plant" still has child objects "A feeder" and 1 outside your folders; move or delete them first');
    assert.ok((await x.call('objects.list', 'boss')).data.some((n: { name: string }) => n.name === 'Site B substation'));
  });
});

describe('retention', () => {
  it('reads the env (naming a bad variable) and prunes old events, old raw responses and all but the newest per meter', async () => {
    assert.deepEqual(retentionFromEnv({}), { eventDays: 400, rawResponseDays: 90, rawResponsesPerMeter: 10_000 });
    assert.deepEqual(retentionFromEnv({ EMS_EVENT_RETENTION_DAYS: '30', EMS_RAW_RESPONSE_RETENTION_DAYS: '7', EMS_RAW_RESPONSES_PER_METER: '2' }), { eventDays: 30, rawResponseDays: 7, rawResponsesPerMeter: 2 });
    assert.throws(() => retentionFromEnv({ EMS_EVENT_RETENTION_DAYS: 'forever' }), /^Error: EMS_EVENT_RETENTION_DAYS "forever" must be a whole number of at least 1/);
    const s = await openEmsServices({ file: ':memory:', env: ADMIN, now: () => NOW });
    try {
      const raw = new RawResponses(s.db, () => NOW);
      raw.add('m1', '01', NOW - 91 * DAY);
      for (let i = 3; i >= 1; i--) raw.add('m1', `0${i + 1}`, NOW - i * DAY);
      raw.add('m2', 'AA', NOW - DAY);
      s.events.add({ kind: 'config', event: 'too old', time: NOW - 401 * DAY });
      s.events.add({ kind: 'config', event: 'kept', time: NOW - 10 * DAY });
      assert.deepEqual(pruneOnce(s.db, s.events, { eventDays: 400, rawResponseDays: 90, rawResponsesPerMeter: 2 }, () => NOW), { events: 1, rawResponses: 2 });
      assert.deepEqual(raw.query('m1', {}).map((r) => r.data), ['02', '03']);
      assert.deepEqual(raw.query('m2', {}).map((r) => r.data), ['AA']);
      assert.deepEqual(s.events.query({ filter: 'config' }).map((e) => e.event).filter((e) => e === 'kept' || e === 'too old'), ['kept']);
    } finally { s.close(); }
  });

  it('prunes when the services open', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ems-prune-')), 'ems.db');
    const db = openEmsDb(file);
    db.prepare("INSERT INTO events (time, event, kind, level) VALUES (?, 'ancient', 'config', 'info')").run(NOW - 500 * DAY);
    db.close();
    const s = await openEmsServices({ file, env: { ...ADMIN, EMS_EVENT_RETENTION_DAYS: '400' }, now: () => NOW });
    assert.equal(s.events.query({ filter: 'ancient' }).length, 0);
    s.close();
  });
});
