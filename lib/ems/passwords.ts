/**
 * Password hashing with scrypt (node:crypto): "scrypt$N$r$p$salt$hash" (base64), a random 16-byte
 * salt per password, compared in constant time. Plain passwords are never stored or returned.
 * New passwords follow passwordProblem's rules (length, not the login, not in common-passwords.json).
 */
import crypto from 'node:crypto';
import COMMON_PASSWORDS from './common-passwords.json';

const KEY_LENGTH = 64;
const DEFAULT_COST = { N: 16384, r: 8, p: 1 };

function scrypt(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const expected = Buffer.from(parts[5], 'base64');
  const key = await scrypt(password, Buffer.from(parts[4], 'base64'), { N, r, p });
  return key.length === expected.length && crypto.timingSafeEqual(key, expected);
}

/** A random token for a session (base64url, 256 bits) and the hash that is stored instead of it. */
export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;
const COMMON = new Set((COMMON_PASSWORDS as string[]).map((p) => p.toLowerCase()));

/**
 * The rules for a new password, or null when it passes: 10 to 1024 characters, not the login and
 * not containing it (logins of 3 characters or more, ignoring case), not a common password.
 * The message names the rule, never the password.
 */
export function passwordProblem(password: unknown, login: string): string | null {
  if (typeof password !== 'string') return 'password must be a string';
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    return `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long (it has ${password.length})`;
  }
  const p = password.toLowerCase();
  const l = login.toLowerCase();
  if (p === l || (l.length >= 3 && p.includes(l))) return `password must not be or contain the login "${login}"`;
  if (COMMON.has(p)) return 'password is on the list of common passwords; choose a less guessable one';
  return null;
}
