/**
 * DLMS AES-GCM (security suite 0): the raw primitive against NIST's gcmEncryptExtIV128 vectors, the
 * ciphered APDU layer against the Green Book's glo-get-request example and a published tool example.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { aesGcm, gmacChallenge, protect, unprotect, TAG_LENGTH } from '../../lib/protocols/dlms/security';
import { decodeApdu, encodeCiphered, innermost } from '../../lib/protocols/dlms/apdu';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/dlms', name), 'utf8'));
const H = (s: string) => Buffer.from(s, 'hex');

describe('AES-128-GCM against NIST gcmEncryptExtIV128 (96-bit IV)', () => {
  const { vectors } = fixture('nist-gcm.json');
  it(`reproduces all ${vectors.length} vectors: ciphertext and 128-bit tag`, () => {
    assert.ok(vectors.length >= 10);
    for (const v of vectors) {
      const { ciphertext, tag } = aesGcm(H(v.key), H(v.iv), H(v.aad), H(v.pt));
      assert.equal(Buffer.concat([ciphertext, tag]).toString('hex'), v.result, `key ${v.key}`);
    }
  });
});

describe('Green Book glo-get-request example (system title 4D4D4D0000BC614E, IC 01234567)', () => {
  const gb = fixture('green-book-ciphering.json');
  const keys = { encryptionKey: H(gb.encryptionKey), authenticationKey: H(gb.authenticationKey) };
  const st = H(gb.systemTitle);
  for (const c of gb.cases) {
    it(`SC 0x${c.securityControl}: encodes the published APDU byte for byte and decodes it back to the GET of the clock`, () => {
      const apdu = encodeCiphered(H(gb.plaintext), { securityControl: parseInt(c.securityControl, 16), systemTitle: st, invocationCounter: parseInt(gb.invocationCounter, 16), keys });
      assert.equal(apdu.toString('hex').toUpperCase(), c.apdu);
      const d = decodeApdu(H(c.apdu), { keys, systemTitle: st });
      assert.equal(d.type, 'ciphered');
      if (d.type !== 'ciphered') return;
      assert.equal(d.name, 'glo-get-request');
      assert.equal(d.invocationCounter, 0x01234567);
      assert.equal(d.plaintext?.toString('hex').toUpperCase(), gb.plaintext);
      const inner = innermost(d);
      assert.ok(inner.type === 'get-request' && inner.form === 'normal');
      if (inner.type === 'get-request' && inner.form === 'normal') {
        assert.deepEqual(inner.request.descriptor, { classId: gb.plaintextMeaning.classId, obis: gb.plaintextMeaning.obis, attribute: gb.plaintextMeaning.attribute });
      }
    });
  }
  it('HLS-GMAC pass 3 and pass 4 (Table 43): f(StoC) by the client and f(CtoS) by the server, byte for byte', () => {
    const h = gb.hlsGmac;
    assert.equal(gmacChallenge(H(h.client.systemTitle), parseInt(h.client.invocationCounter, 16), keys, H(h.StoC)).toString('hex').toUpperCase(), h.fStoC);
    assert.equal(gmacChallenge(H(h.server.systemTitle), parseInt(h.server.invocationCounter, 16), keys, H(h.CtoS)).toString('hex').toUpperCase(), h.fCtoS);
  });
  it('a flipped ciphertext bit, a wrong authentication key or a wrong system title fails the tag as wrong-key', () => {
    const good = H(gb.cases[2].apdu);
    const bad = Buffer.from(good);
    bad[10] ^= 1;
    const wrongKey = (f: () => unknown) => assert.throws(f, (e: unknown) => e instanceof DlmsDecodeError && e.code === 'wrong-key');
    wrongKey(() => decodeApdu(bad, { keys, systemTitle: st }));
    wrongKey(() => decodeApdu(good, { keys: { ...keys, authenticationKey: H('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDE') }, systemTitle: st }));
    wrongKey(() => decodeApdu(good, { keys, systemTitle: H('4D4D4D0000BC614F') }));
    const authOnly = Buffer.from(H(gb.cases[0].apdu));
    authOnly[8] ^= 0x40; // plaintext byte under authentication only
    wrongKey(() => decodeApdu(authOnly, { keys, systemTitle: st }));
  });
  it('without keys a ciphered APDU shows its header; with keys but no system title it asks for one', () => {
    const d = decodeApdu(H(gb.cases[2].apdu));
    assert.ok(d.type === 'ciphered' && d.securityControl === 0x30 && d.plaintext === undefined);
    assert.throws(() => decodeApdu(H(gb.cases[2].apdu), { keys }), (e: unknown) => e instanceof DlmsDecodeError && e.code === 'no-key' && /system title/.test(e.message));
  });
  it('the error for a wrong key never contains the key', () => {
    try {
      decodeApdu(H(gb.cases[2].apdu), { keys: { encryptionKey: H('0F0E0D0C0B0A09080706050403020100'), authenticationKey: keys.authenticationKey }, systemTitle: st });
      assert.fail('decrypted with a wrong key');
    } catch (e) {
      assert.ok(e instanceof DlmsDecodeError);
      assert.doesNotMatch(e.message, /0F0E0D0C|0f0e0d0c|D0D1D2|d0d1d2/);
    }
  });
});

describe('published tool example (SC 0x30, other keys and counter)', () => {
  const { examples } = fixture('ciphering-examples.json');
  for (const x of examples) {
    it(x.name, () => {
      const keys = { encryptionKey: H(x.encryptionKey), authenticationKey: H(x.authenticationKey) };
      const out = protect(parseInt(x.securityControl, 16), H(x.systemTitle), parseInt(x.invocationCounter, 16), keys, H(x.plaintext));
      assert.equal(out.subarray(5, out.length - TAG_LENGTH).toString('hex'), x.ciphertext);
      assert.equal(out.subarray(out.length - TAG_LENGTH).toString('hex'), x.tag);
      assert.equal(unprotect(out, H(x.systemTitle), keys).plaintext.toString('hex'), x.plaintext);
    });
  }
});

describe('security round trips', () => {
  const keys = { encryptionKey: H('000102030405060708090A0B0C0D0E0F'), authenticationKey: H('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF') };
  it('every SC of suite 0 and suite 2 (AES-256) round-trips, general-glo-ciphering carries the system title', () => {
    const st = H('4D4D4D0000BC614E');
    for (const sc of [0x10, 0x20, 0x30]) {
      const wrapped = encodeCiphered(H('C0010000080000010000FF0200'), { securityControl: sc, systemTitle: st, invocationCounter: 7, keys, general: true });
      const d = decodeApdu(wrapped, { keys });
      assert.ok(d.type === 'ciphered' && d.name === 'general-glo-ciphering' && d.plaintext?.toString('hex') === 'c0010000080000010000ff0200', `SC ${sc}`);
    }
    const k256 = { encryptionKey: Buffer.alloc(32, 7), authenticationKey: Buffer.alloc(32, 9) };
    const c = protect(0x32, st, 1, k256, Buffer.from('hello'));
    assert.equal(unprotect(c, st, k256).plaintext.toString(), 'hello');
    assert.throws(() => unprotect(c, st, keys), (e: unknown) => e instanceof DlmsDecodeError && /32-byte key/.test(e.message));
  });
  it('HLS-GMAC f(challenge) is SC 0x10, the counter and a 12-byte GMAC tag that changes with the challenge', () => {
    const st = H('4D4D4D0000BC614E');
    const a = gmacChallenge(st, 1, keys, Buffer.from('K56iVagY'));
    const b = gmacChallenge(st, 1, keys, Buffer.from('K56iVagZ'));
    assert.equal(a.length, 17);
    assert.equal(a[0], 0x10);
    assert.equal(a.readUInt32BE(1), 1);
    assert.notDeepEqual(a.subarray(5), b.subarray(5));
    // the same tag is what unprotect checks for SC 0x10 with the challenge as information
    const asApdu = Buffer.concat([a.subarray(0, 5), Buffer.from('K56iVagY'), a.subarray(5)]);
    assert.equal(unprotect(asApdu, st, keys).plaintext.toString(), 'K56iVagY');
  });
});
