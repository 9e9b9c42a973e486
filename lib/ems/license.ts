/**
 * Signed licenses: a JSON file { license: {...terms}, signature } where the signature is Ed25519
 * over the canonical JSON of the terms (keys sorted), checked against the public key shipped with
 * the package (lib/ems/license-public-key.pem) or EMS_LICENSE_PUBLIC_KEY (PEM text or file path). The terms give the
 * activation, deactivation and expiration dates and meter_limit (the dictionary's license fields).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from './envelope';

export interface LicenseTerms {
  id: string;
  customer: string;
  /** ISO dates (YYYY-MM-DD, UTC days): valid from activation through expiration, inclusive. */
  activation_date: string;
  expiration_date: string;
  /** Set when the vendor withdrew the license before it expired. */
  deactivation_date?: string;
  meter_limit: number;
  issued_at: string;
}

export interface LicenseFile {
  license: LicenseTerms;
  /** base64 Ed25519 signature of canonicalJson(license). */
  signature: string;
}

export type LicenseState = 'valid' | 'not-yet-active' | 'expired' | 'deactivated' | 'none';

export interface LicenseStatus {
  state: LicenseState;
  license: LicenseTerms | null;
  /** Readable reason, e.g. "expired on 2026-12-31". */
  message: string;
}

/** Without a license the EMS runs as a demo with this many meters. */
export const UNLICENSED_METER_LIMIT = 5;

/**
 * The trusted license key: EMS_LICENSE_PUBLIC_KEY (the PEM text, or the path of a PEM file) or the
 * vendor's key shipped as license-public-key.pem. Only public keys live in the package.
 */
export function defaultPublicKey(env: { EMS_LICENSE_PUBLIC_KEY?: string } = process.env): string {
  const configured = (env.EMS_LICENSE_PUBLIC_KEY ?? '').trim();
  if (configured.includes('-----BEGIN')) return configured;
  return fs.readFileSync(configured ? path.resolve(configured) : path.join(__dirname, 'license-public-key.pem'), 'utf8');
}

/** JSON with object keys sorted at every level: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The terms' fields, checked for shape (not the signature); a 400 ApiError names the bad field. */
export function checkTerms(t: unknown): LicenseTerms {
  if (!t || typeof t !== 'object') throw new ApiError(400, 'license: the file must hold a "license" object and a "signature"');
  const x = t as Record<string, unknown>;
  for (const k of ['activation_date', 'expiration_date'] as const) {
    if (typeof x[k] !== 'string' || !DATE.test(x[k] as string) || Number.isNaN(Date.parse(x[k] as string))) throw new ApiError(400, `license.${k} ${JSON.stringify(x[k])} must be a date YYYY-MM-DD`);
  }
  if (x.deactivation_date !== undefined && (typeof x.deactivation_date !== 'string' || !DATE.test(x.deactivation_date))) {
    throw new ApiError(400, `license.deactivation_date ${JSON.stringify(x.deactivation_date)} must be a date YYYY-MM-DD`);
  }
  if (!Number.isSafeInteger(x.meter_limit) || (x.meter_limit as number) < 0) throw new ApiError(400, `license.meter_limit ${JSON.stringify(x.meter_limit)} must be a whole number >= 0`);
  if (typeof x.id !== 'string' || typeof x.customer !== 'string') throw new ApiError(400, 'license.id and license.customer must be strings');
  return x as unknown as LicenseTerms;
}

/** Parses and verifies a license file's text; a 400 ApiError says what is wrong. */
export function verifyLicense(text: string, publicKeyPem = defaultPublicKey()): LicenseTerms {
  let file: LicenseFile;
  try {
    file = JSON.parse(text) as LicenseFile;
  } catch (err) {
    throw new ApiError(400, `license: not JSON (${(err as Error).message})`);
  }
  const terms = checkTerms(file?.license);
  if (typeof file.signature !== 'string' || file.signature === '') throw new ApiError(400, 'license: the signature is missing');
  const ok = crypto.verify(null, Buffer.from(canonicalJson(terms)), crypto.createPublicKey(publicKeyPem), Buffer.from(file.signature, 'base64'));
  if (!ok) throw new ApiError(400, 'license: the signature does not match (the file was changed or is not for this product)');
  return terms;
}

/** A new Ed25519 key pair as PEM texts (spki public, pkcs8 private): a vendor's, a demo's or a test's. */
export function generateLicenseKeys(): { publicKey: string; privateKey: string } {
  const pair = crypto.generateKeyPairSync('ed25519');
  return {
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** Signs terms with an Ed25519 private key (scripts/issue-license.js; tests). */
export function signLicense(terms: LicenseTerms, privateKeyPem: string): LicenseFile {
  const signature = crypto.sign(null, Buffer.from(canonicalJson(terms)), crypto.createPrivateKey(privateKeyPem)).toString('base64');
  return { license: terms, signature };
}

/** Where a license stands at `now` (epoch ms). */
export function licenseStatus(terms: LicenseTerms | null, now: number): LicenseStatus {
  if (!terms) return { state: 'none', license: null, message: `no license: the EMS runs as a demo limited to ${UNLICENSED_METER_LIMIT} meters` };
  const today = new Date(now).toISOString().slice(0, 10);
  if (terms.deactivation_date && terms.deactivation_date <= today) return { state: 'deactivated', license: terms, message: `license ${terms.id} was deactivated on ${terms.deactivation_date}` };
  if (today < terms.activation_date) return { state: 'not-yet-active', license: terms, message: `license ${terms.id} is active from ${terms.activation_date}` };
  if (today > terms.expiration_date) return { state: 'expired', license: terms, message: `license ${terms.id} expired on ${terms.expiration_date}` };
  return { state: 'valid', license: terms, message: `license ${terms.id} for ${terms.customer}: ${terms.meter_limit} meters until ${terms.expiration_date}` };
}

/** Throws a 403 ApiError when a meter may not be created: beyond meter_limit, or the license is not valid. */
export function checkMeterAllowed(terms: LicenseTerms | null, now: number, countAfter: number): void {
  const s = licenseStatus(terms, now);
  if (s.state !== 'valid' && s.state !== 'none') throw new ApiError(403, `cannot create a meter: ${s.message}`);
  const limit = s.state === 'none' ? UNLICENSED_METER_LIMIT : terms!.meter_limit;
  if (countAfter > limit) throw new ApiError(403, `cannot create meter number ${countAfter}: the ${s.state === 'none' ? 'demo' : 'license\'s'} meter_limit is ${limit}`);
}
