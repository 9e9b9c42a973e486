/**
 * Secrets at rest in the EMS database (meter passwords): AES-256-GCM with a key derived by scrypt
 * from the credential secret. A sealed value is "enc:v1:<base64 of iv | tag | ciphertext>"; a value
 * without that prefix is an old plain one and is read as it is (and sealed on the next open).
 *
 * The secret comes from EMS_CREDENTIAL_SECRET. Without it the EMS uses DEMO_CREDENTIAL_SECRET, which
 * ships with the package and so protects nothing against someone who has it: set your own before
 * storing real meter passwords, and keep it (the stored passwords cannot be read with another one).
 */
import crypto from 'node:crypto';

export const SEALED_PREFIX = 'enc:v1:';
/** Used when EMS_CREDENTIAL_SECRET is unset (the one-command demo). Public, so not a protection. */
export const DEMO_CREDENTIAL_SECRET = 'ems-demo-credential-secret (set EMS_CREDENTIAL_SECRET)';

/** EMS_CREDENTIAL_SECRET when set (non-blank), else the documented demo secret. */
export function credentialSecretFromEnv(env: { EMS_CREDENTIAL_SECRET?: string } | undefined): string {
  const s = env?.EMS_CREDENTIAL_SECRET;
  return typeof s === 'string' && s.trim() !== '' ? s : DEMO_CREDENTIAL_SECRET;
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

const keys = new Map<string, Buffer>();

function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.scryptSync(secret, 'node-red-contrib-ems credentials v1', 32);
    keys.set(secret, key);
  }
  return key;
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (typeof secret !== 'string' || secret === '') throw new Error('the credential secret must be a non-empty string');
    this.key = keyOf(secret);
  }

  /** Seals a secret; "" stays "" (no secret set). */
  seal(plain: string): string {
    if (plain === '' || isSealed(plain)) return plain;
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plain secret of a sealed value (an unsealed value is returned as it is); throws when another secret sealed it. */
  open(stored: string): string {
    if (!isSealed(stored)) return stored;
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64');
    if (raw.length < 28) throw new Error('the sealed value is truncated');
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('it was sealed with another EMS_CREDENTIAL_SECRET');
    }
  }
}
