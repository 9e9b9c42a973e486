import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { verifyLicense, signLicense, licenseStatus, checkMeterAllowed, canonicalJson, UNLICENSED_METER_LIMIT, type LicenseTerms } from '../../lib/ems/license';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
const terms: LicenseTerms = { id: 'L-1', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2026-12-31', meter_limit: 3, issued_at: '2025-12-20T10:00:00Z' };

describe('licenses', () => {
  it('accepts a license issued by scripts/issue-license.js with the shipped key pair', () => {
    const text = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'issue-license.js'), '--customer', 'ACME', '--meters', '7', '--from', '2026-01-01', '--to', '2026-12-31'], { encoding: 'utf8' });
    const t = verifyLicense(text);
    assert.equal(t.customer, 'ACME');
    assert.equal(t.meter_limit, 7);
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
