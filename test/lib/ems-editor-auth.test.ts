import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditEvent, editorAdminAuth, editorAuditHandler, editorPermissions, lazyServices } from '../../lib/ems/editor-auth';
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

  it('counts a wrong editor password as a failed EMS login (lockout applies)', async () => {
    const auth = editorAdminAuth(editor);
    const before = ems.users.credentialsByLogin('olga')!.failed_logins;
    await auth.authenticate('olga', 'wrong-password');
    assert.equal(ems.users.credentialsByLogin('olga')!.failed_logins, before + 1);
    assert.ok(await auth.authenticate('olga', 'Vq7-sunflower-92'));
  });

  it('records the editor\'s changes as audit events naming who and from where, secrets masked', async () => {
    assert.equal(auditEvent({ event: 'flows.get', user: { username: 'admin' }, ip: '127.0.0.1' }), null);
    assert.equal(auditEvent({ event: 'auth.login', user: { username: 'admin' } }), null);
    const handler = editorAuditHandler(editor);
    handler({ level: 98, event: 'flows.set', type: 'full', user: { username: 'admin' }, ip: '10.0.0.7', path: '/flows' });
    handler({ level: 98, event: 'nodes.install', module: 'node-red-contrib-x', url: 'u', user: { username: 'admin' }, ip: '10.0.0.7', path: '/nodes' });
    handler({ level: 98, event: 'permission.fail', permissions: 'flows.write', user: { username: 'olga' }, ip: '10.0.0.8', path: '/flows' });
    handler({ level: 98, event: 'settings.update', token: 'abc', user: { username: 'admin' }, ip: '10.0.0.7' });
    const rows = await new Promise<any[]>((resolve) => setTimeout(() => resolve(ems.db.prepare("SELECT kind, event, source, value FROM events WHERE kind IN ('audit','security') ORDER BY id").all()), 50));
    assert.deepEqual(rows, [
      { kind: 'audit', event: 'editor flows.set /flows', source: 'editor:admin@10.0.0.7', value: '{"type":"full"}' },
      { kind: 'audit', event: 'editor nodes.install /nodes', source: 'editor:admin@10.0.0.7', value: '{"module":"node-red-contrib-x","url":"u"}' },
      { kind: 'security', event: 'editor permission.fail /flows', source: 'editor:olga@10.0.0.8', value: '{"permissions":"flows.write"}' },
      { kind: 'audit', event: 'editor settings.update', source: 'editor:admin@10.0.0.7', value: '{"token":"***"}' },
    ]);
  });
});
