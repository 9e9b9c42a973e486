import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmsServices } from '../../lib/ems/services';
import { signLicense } from '../../lib/ems/license';

const keys = crypto.generateKeyPairSync('ed25519');
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const meter = (folder_id: string, n: number) => ({ folder_id, name: `meter ${n}`, protocol: 'modbus-tcp', profile: 'eastron-sdm630', connection_address: String(n) });

describe('EMS services', () => {
  it('start with an admin, enforce the demo meter limit until a license lifts it, and log every change', async () => {
    const now = () => Date.UTC(2026, 10, 21, 9);
    const s = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, licensePublicKey: publicPem, now });
    assert.equal(s.adminWarning, null);
    const login = await s.auth.login('boss', 'chief-pass-0417');
    assert.equal(s.auth.authenticate(login.access_token).user.role, 'admin');

    const site = s.registry.createFolder({ name: 'Site' });
    for (let n = 1; n <= 5; n++) s.registry.createMeter(meter(site._id, n));
    assert.throws(() => s.registry.createMeter(meter(site._id, 6)), /cannot create meter number 6: the demo meter_limit is 5/);
    assert.equal(s.license.status().state, 'none');

    const file = signLicense({ id: 'L-9', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2027-01-01', meter_limit: 6, issued_at: '2026-01-01T00:00:00Z' }, privatePem);
    assert.throws(() => s.license.upload(JSON.stringify({ ...file, license: { ...file.license, meter_limit: 600 } })), /signature does not match/);
    assert.equal(s.license.status().state, 'none', 'a refused upload changes nothing');
    assert.equal(s.license.upload(JSON.stringify(file), 'boss').state, 'valid');
    s.registry.createMeter(meter(site._id, 6));
    assert.throws(() => s.registry.createMeter(meter(site._id, 7)), /license's meter_limit is 6/);

    const config = s.events.query({ filter: 'config' });
    assert.equal(config.length, 7);
    assert.equal(config[0].event, 'meter created');
    assert.equal(config[0].meter_id, 'meter-6');
    assert.equal(s.events.query({ filter: 'system' })[0].event, 'admin account "boss" created on first start');
    s.close();
  });

  it('keep everything in the database file across restarts, and warn while the demo password is in use', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-services-'));
    const file = path.join(dir, 'ems.db');
    const first = await openEmsServices({ file, licensePublicKey: publicPem });
    assert.match(first.adminWarning ?? '', /demo password/);
    const f = first.registry.createFolder({ name: 'Kept' });
    first.registry.createMeter(meter(f._id, 1));
    first.close();
    const second = await openEmsServices({ file, licensePublicKey: publicPem });
    assert.deepEqual(second.registry.meters().map((m) => m._id), ['meter-1']);
    assert.equal(second.users.count(), 1, 'no second admin');
    second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
