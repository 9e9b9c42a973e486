import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { defaultPublicKey, verifyLicense, signLicense, licenseStatus, checkMeterAllowed, canonicalJson, UNLICENSED_METER_LIMIT, type LicenseTerms } from '../../lib/ems/license';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
const terms: LicenseTerms = { id: 'L-1', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2026-12-31', meter_limit: 3, issued_at: '2025-12-20T10:00:00Z' };

describe('licenses', () => {
  it('accepts a license issued by scripts/issue-license.js with a vendor key pair it generated', () => {
    const script = path.join(ROOT, 'scripts', 'issue-license.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-vendor-'));
    try {
      execFileSync(process.execPath, [script, '--generate-key', dir], { encoding: 'utf8' });
      const pub = fs.readFileSync(path.join(dir, 'license-public-key.pem'), 'utf8');
      assert.equal(fs.statSync(path.join(dir, 'license-private-key.pem')).mode & 0o077, 0, 'the private key is readable by its owner only');
      const text = execFileSync(process.execPath, [script, '--key', path.join(dir, 'license-private-key.pem'), '--customer', 'ACME', '--meters', '7', '--from', '2026-01-01', '--to', '2026-12-31'], { encoding: 'utf8' });
      const t = verifyLicense(text, pub);
      assert.equal(t.customer, 'ACME');
      assert.equal(t.meter_limit, 7);
      // The shipped key does not trust it: no private key of the shipped public key is in the package.
      assert.throws(() => verifyLicense(text), /signature does not match/);
      // EMS_LICENSE_PUBLIC_KEY may hold the PEM text or a file path.
      assert.equal(defaultPublicKey({ EMS_LICENSE_PUBLIC_KEY: pub }), pub.trim());
      assert.equal(defaultPublicKey({ EMS_LICENSE_PUBLIC_KEY: path.join(dir, 'license-public-key.pem') }), pub);
      assert.match(defaultPublicKey({}), /BEGIN PUBLIC KEY/);
      // A second --generate-key into the same folder does not overwrite the vendor's key.
      assert.throws(() => execFileSync(process.execPath, [script, '--generate-key', dir], { stdio: 'pipe' }), /exists: not overwriting/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scripts/issue-license.js prints its usage with --help and requires --key', () => {
    const script = path.join(ROOT, 'scripts', 'issue-license.js');
    assert.match(execFileSync(process.execPath, [script, '--help'], { encoding: 'utf8' }), /Usage:[\s\S]*--key <private.pem>[\s\S]*--generate-key <dir>/);
    const r = spawnSync(process.execPath, [script, '--meters', '3'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--key <private.pem> is required/);
    assert.equal(r.stdout, '');
  });

  it('no private key sits in the package', () => {
    const pems = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (['node_modules', 'dist', '.node-red', '.git'].includes(e.name) ? [] : pems(path.join(dir, e.name))) : e.name.endsWith('.pem') ? [path.join(dir, e.name)] : []);
    const found = pems(ROOT).filter((f) => /PRIVATE KEY/.test(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(found, []);
  });

  it('refuses a changed license, a foreign key and broken files, saying why', () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const foreign = JSON.stringify(signLicense(terms, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string));
    assert.throws(() => verifyLicense(foreign), /signature does not match/);
    const own = crypto.generateKeyPairSync('ed25519');
    const pub = own.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const file = signLicense(terms, own.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    assert.equal(verifyLicense(JSON.stringify(file), pub).meter_limit, 3);
    const tampered = { ...file, license: { ...file.license, meter_limit: 3000 } };
    assert.throws(() => verifyLicense(JSON.stringify(tampered), pub), /signature does not match/);
    assert.throws(() => verifyLicense('{nope', pub), /license: not JSON/);
    assert.throws(() => verifyLicense(JSON.stringify({ ...file, license: { ...terms, expiration_date: '31.12.2026' } }), pub), /license.expiration_date "31.12.2026" must be a date/);
    assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  });

  it('knows activation, expiry and deactivation, and enforces meter_limit', () => {
    assert.equal(licenseStatus(terms, day('2025-12-31')).state, 'not-yet-active');
    assert.equal(licenseStatus(terms, day('2026-12-31')).state, 'valid');
    assert.equal(licenseStatus(terms, day('2027-01-01')).state, 'expired');
    assert.equal(licenseStatus({ ...terms, deactivation_date: '2026-06-01' }, day('2026-06-01')).state, 'deactivated');
    checkMeterAllowed(terms, day('2026-05-01'), 3);
    assert.throws(() => checkMeterAllowed(terms, day('2026-05-01'), 4), /cannot create meter number 4: the license's meter_limit is 3/);
    assert.throws(() => checkMeterAllowed(terms, day('2027-02-01'), 1), /cannot create a meter: license L-1 expired on 2026-12-31/);
    checkMeterAllowed(null, day('2026-05-01'), UNLICENSED_METER_LIMIT);
    assert.throws(() => checkMeterAllowed(null, day('2026-05-01'), UNLICENSED_METER_LIMIT + 1), /demo meter_limit is 5/);
  });
});
