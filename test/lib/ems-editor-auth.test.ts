import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditEvent, editorAdminAuth, editorAuditHandler, editorLoginSource, editorPermissions, lazyServices, LOGIN_SOURCE_SEPARATOR as SEP } from '../../lib/ems/editor-auth';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';

describe('the editor accounts are the EMS users', () => {
  let dir: string;
  let file: string;
  let ems: EmsServices;
  let editor: ReturnType<typeof lazyServices>;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-editor-auth-'));
    file = path.join(dir, 'ems.db');
    // Two openers of a fresh database at once, both creating the first admin: the loser reopens.
    editor = lazyServices({ file, env: { EMS_ADMIN_PASSWORD: 'Adm1n-sunflower' } });
    let failures = 0;
    const racing = (o: Parameters<typeof openEmsServices>[0]) => openEmsServices(o).catch((err) => { failures++; throw err; });
    [ems] = await Promise.all([lazyServices({ file, env: { EMS_ADMIN_PASSWORD: 'Adm1n-sunflower' } }, racing)(), editor()]);
    assert.ok(failures <= 1, `${failures} failed opens`);
    await ems.users.create({ login: 'olga', name: 'Olga', password: 'Vq7-sunflower-92', role: 'operator' });
    await ems.users.create({ login: 'vera', name: 'Vera', password: 'Vq7-sunflower-93', role: 'viewer' });
    const anna = await ems.users.create({ login: 'anna', name: 'Anna', password: 'Vq7-sunflower-94', role: 'admin' });
    await ems.users.update(anna.id, { active: false });
    assert.equal(ems.users.count(), 4);
  });
  after(() => {
    editor.close();
    ems.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives admins the editor, operators read-only, viewers and the unknown nothing', async () => {
    const auth = editorAdminAuth(editor);
    assert.equal(auth.type, 'credentials');
    assert.deepEqual(await auth.authenticate('admin', 'Adm1n-sunflower'), { username: 'admin', permissions: '*' });
    assert.deepEqual(await auth.authenticate('olga', 'Vq7-sunflower-92'), { username: 'olga', permissions: 'read' });
    assert.equal(await auth.authenticate('vera', 'Vq7-sunflower-93'), null);
    assert.equal(await auth.authenticate('olga', 'wrong-password'), null);
    assert.equal(await auth.authenticate('nobody', 'Vq7-sunflower-92'), null);
    assert.equal(await auth.authenticate('anna', 'Vq7-sunflower-94'), null, 'a deactivated admin');
    assert.deepEqual(await auth.users('admin'), { username: 'admin', permissions: '*' });
    assert.deepEqual(await auth.users('olga'), { username: 'olga', permissions: 'read' });
    assert.equal(await auth.users('vera'), null);
    assert.equal(await auth.users('anna'), null);
    assert.equal(await auth.users('nobody'), null);
    assert.equal(editorPermissions('viewer'), null);
  });

  it('throttles wrong editor passwords per client address, like API logins, without locking others out', async () => {
    const auth = editorAdminAuth(editor);
    for (let i = 0; i < 3; i++) assert.equal(await auth.authenticate(`olga${SEP}10.9.9.9`, `wrong-password-${i}`), null);
    const failed = ems.db.prepare("SELECT source FROM events WHERE kind = 'login' AND event = 'login failed' AND source = 'olga@10.9.9.9'").all();
    assert.equal(failed.length, 3, 'each failure is a login event naming the address');
    assert.equal(await auth.authenticate(`olga${SEP}10.9.9.9`, 'Vq7-sunflower-92'), null, 'the guessing address waits, even with the right password');
    assert.deepEqual(await auth.authenticate(`olga${SEP}10.1.2.3`, 'Vq7-sunflower-92'), { username: 'olga', permissions: 'read' }, 'another address gets in');
    // Node-RED's sessions keep the marked username: the user behind an editor token is still the EMS user.
    assert.deepEqual(await auth.users(`olga${SEP}10.1.2.3`), { username: 'olga', permissions: 'read' });
  });

  it('marks the token request\'s username with the client address (capped body, form or JSON)', async () => {
    const mw = editorLoginSource();
    const run = (body: string, type: string, url = '/auth/token') => new Promise<{ body?: any; status?: number }>((resolve) => {
      const { Readable } = require('node:stream');
      const req = Object.assign(Readable.from([Buffer.from(body)]), { method: 'POST', url, headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) }, ip: '10.4.4.4', socket: {} });
      const res = { statusCode: 200, setHeader() {}, end() { resolve({ status: this.statusCode }); } } as any;
      mw(req as any, res, () => resolve({ body: (req as any).body }));
    });
    assert.equal((await run('client_id=node-red-editor&grant_type=password&scope=*&username=admin&password=x', 'application/x-www-form-urlencoded')).body.username, `admin${SEP}10.4.4.4`);
    assert.equal((await run(JSON.stringify({ username: `ad${SEP}min`, password: 'x' }), 'application/json')).body.username, `admin${SEP}10.4.4.4`, 'a separator sent by the client is dropped');
    assert.equal((await run('x'.repeat(9000), 'application/x-www-form-urlencoded')).status, 413);
    assert.equal((await run('username=a', 'application/x-www-form-urlencoded', '/flows')).body, undefined, 'other paths pass untouched');
  });

  it('records the editor\'s changes as audit events naming who and from where, secrets masked', async () => {
    assert.equal(auditEvent({ event: 'flows.get', user: { username: 'admin' }, ip: '127.0.0.1' }), null);
    assert.equal(auditEvent({ event: 'auth.login', user: { username: 'admin' } }), null);
    const handler = editorAuditHandler(editor);
    handler({ level: 98, event: 'flows.set', type: 'full', user: { username: 'admin' }, ip: '10.0.0.7', path: '/flows' });
    handler({ level: 98, event: 'nodes.install', module: 'node-red-contrib-x', url: 'u', user: { username: 'admin' }, ip: '10.0.0.7', path: '/nodes' });
    handler({ level: 98, event: 'permission.fail', permissions: 'flows.write', user: { username: 'olga' }, ip: '10.0.0.8', path: '/flows' });
    handler({ level: 98, event: 'settings.update', token: 'abc', user: { username: 'admin' }, ip: '10.0.0.7' });
    const rows = await new Promise<any[]>((resolve) => setTimeout(() => resolve(ems.db.prepare("SELECT kind, event, source, value FROM events WHERE kind IN ('audit','security') AND event LIKE 'editor %' ORDER BY id").all()), 50));
    assert.deepEqual(rows, [
      { kind: 'audit', event: 'editor flows.set /flows', source: 'editor:admin@10.0.0.7', value: '{"type":"full"}' },
      { kind: 'audit', event: 'editor nodes.install /nodes', source: 'editor:admin@10.0.0.7', value: '{"module":"node-red-contrib-x","url":"u"}' },
      { kind: 'security', event: 'editor permission.fail /flows', source: 'editor:olga@10.0.0.8', value: '{"permissions":"flows.write"}' },
      { kind: 'audit', event: 'editor settings.update', source: 'editor:admin@10.0.0.7', value: '{"token":"***"}' },
    ]);
  });
});
