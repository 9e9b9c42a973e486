/** HS256 JSON Web Tokens with node:crypto (RFC 7519 subset: sign, verify signature and exp). */
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (buf: Buffer) => buf.toString('base64url');

export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const head = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const body = b64url(Buffer.from(JSON.stringify(claims)));
  const sig = b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

export type JwtResult = { ok: true; claims: Record<string, any> } | { ok: false; reason: 'invalid' | 'expired' };

/** Verifies the signature and `exp` (seconds) against `nowMs`. */
export function verifyJwt(token: string, secret: string, nowMs: number): JwtResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'invalid' };
  const [head, body, sig] = parts;
  const expect = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== expect.length || !timingSafeEqual(got, expect)) return { ok: false, reason: 'invalid' };
  let header: any;
  let claims: any;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (header?.alg !== 'HS256' || typeof claims !== 'object' || claims === null) return { ok: false, reason: 'invalid' };
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

/** Reads the claims without verifying (what a client needs to know when its token expires). */
export function decodeJwt(token: string): Record<string, any> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
