/** Association building and checking against the Green Book's AARQ/AARE examples and its HLS-GMAC Table 43. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AssociationError, buildAarq, checkAare, checkHlsResult, hlsReply } from '../../lib/protocols/dlms/association';
import { decodeApdu, innermost } from '../../lib/protocols/dlms/apdu';
import { DEFAULT_INVOKE, encodeService } from '../../lib/protocols/dlms/xdlms';

const root = path.resolve(__dirname, '../../..');
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/dlms', f), 'utf8'));
const acse = read('acse.json');
const gb = read('green-book-ciphering.json');
const H = (s: string) => Buffer.from(s, 'hex');
const hex = (b: Buffer) => b.toString('hex').toUpperCase();
const keys = { encryptionKey: H(gb.encryptionKey), authenticationKey: H(gb.authenticationKey) };
const byName = (re: RegExp) => acse.apdus.find((a: { name: string }) => re.test(a.name)).hex;
const common = { conformance: 0x007e1f, maxReceivePduSize: 1200 };

describe('AARQ building', () => {
  it('lowest, LLS and HLS-GMAC AARQs are the Green Book bytes', () => {
    assert.equal(hex(buildAarq({ mechanism: 'lowest', ...common }).aarq), byName(/no security/));
    assert.equal(hex(buildAarq({ mechanism: 'low', password: Buffer.from('12345678'), ...common }).aarq), byName(/low level security/));
    const hls = buildAarq({ mechanism: 'high-gmac', challenge: Buffer.from('K56iVagY'), ...common });
    assert.equal(hex(hls.aarq), byName(/HLS-GMAC, client challenge/));
    assert.equal(hls.challenge?.toString(), 'K56iVagY');
  });
  it('a ciphered AARQ carries the system title and a glo-initiate-request the server can decrypt', () => {
    const { aarq } = buildAarq({ mechanism: 'low', password: Buffer.from('12345678'), ciphered: true, systemTitle: H(gb.systemTitle), keys, ...common }, 0x01234567);
    const a = decodeApdu(aarq, { keys });
    assert.ok(a.type === 'aarq' && a.applicationContext === 3 && hex(a.callingApTitle as Buffer) === gb.systemTitle);
    const init = a.type === 'aarq' && a.initiate?.type === 'ciphered' ? a.initiate.inner : undefined;
    assert.ok(init && init.type === 'initiate-request' && init.conformance === 0x007e1f && init.maxReceivePduSize === 1200);
  });
  it('missing secrets are named, never shown', () => {
    assert.throws(() => buildAarq({ mechanism: 'low' }), /password \(LLS\) is required/);
    assert.throws(() => buildAarq({ mechanism: 'lowest', ciphered: true, keys }), /client system title is required/);
  });
});

describe('AARE checking', () => {
  it('an accepted AARE gives the negotiated conformance and PDU size', () => {
    assert.deepEqual(checkAare(H(byName(/^AARE accepted$/)), { mechanism: 'lowest' }), { serverSystemTitle: undefined, challenge: undefined, conformance: 0x00501f, maxPduSize: 500, hlsPending: false });
  });
  it('a refused AARE is an AssociationError naming the diagnostic', () => {
    assert.throws(() => checkAare(H(byName(/context name not supported/)), { mechanism: 'lowest' }),
      (e: unknown) => e instanceof AssociationError && e.code === 'rejected' && /rejected-permanent: application-context-name-not-supported/.test(e.message));
    assert.throws(() => checkAare(H(byName(/DLMS version too low/)), { mechanism: 'lowest' }), /initiate error 1/);
  });
  it('an HLS AARE hands over the server challenge; passes 3 and 4 match Green Book Table 43', () => {
    const accepted = checkAare(H(byName(/server challenge P6wRJ21F/)), { mechanism: 'high-gmac' });
    assert.equal(accepted.challenge?.toString(), 'P6wRJ21F');
    assert.equal(accepted.hlsPending, true);
    const h = gb.hlsGmac;
    const o = { mechanism: 'high-gmac' as const, systemTitle: H(h.client.systemTitle), keys };
    const pass3 = innermost(decodeApdu(hlsReply(o, accepted.challenge as Buffer, parseInt(h.client.invocationCounter, 16))));
    assert.ok(pass3.type === 'action-request' && pass3.form === 'normal');
    if (pass3.type === 'action-request' && pass3.form === 'normal') {
      assert.deepEqual(pass3.method, { classId: 15, obis: '0-0:40.0.0.255', method: 1 });
      assert.equal(pass3.parameters?.type === 'octet-string' && hex(pass3.parameters.value), h.fStoC);
    }
    const reply = (f: Buffer) => encodeService({ type: 'action-response', form: 'normal', invoke: DEFAULT_INVOKE, result: 0, returned: { data: { type: 'octet-string', value: f } } });
    checkHlsResult(reply(H(h.fCtoS)), o, H(h.CtoS), H(h.server.systemTitle));
    const forged = H(h.fCtoS);
    forged[16] ^= 1;
    assert.throws(() => checkHlsResult(reply(forged), o, H(h.CtoS), H(h.server.systemTitle)), (e: unknown) => e instanceof AssociationError && e.code === 'authentication');
    assert.throws(() => checkHlsResult(reply(H(h.fCtoS)), o, Buffer.from('K56iVagZ'), H(h.server.systemTitle)), /does not match/);
  });
  it('a ciphered HLS reply goes out as glo-action-request the server decrypts', () => {
    const o = { mechanism: 'high-gmac' as const, systemTitle: H(gb.systemTitle), keys, ciphered: true };
    const d = decodeApdu(hlsReply(o, Buffer.from('P6wRJ21F'), 10), { keys, systemTitle: H(gb.systemTitle) });
    assert.ok(d.type === 'ciphered' && d.name === 'glo-action-request' && d.invocationCounter === 11);
  });
});
