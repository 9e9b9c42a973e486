/** ACSE and xDLMS APDUs: Green Book examples decode to the stated fields, our encoders reproduce them, services round-trip. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type Apdu, decodeApdu, innermost } from '../../lib/protocols/dlms/apdu';
import { conformanceNames, encodeAare, encodeAarq, encodeInitiateRequest, encodeInitiateResponse, encodeRelease } from '../../lib/protocols/dlms/acse';
import { type AttributeRequest, type XdlmsApdu, DEFAULT_INVOKE, decodeService, encodeService, joinBlocks } from '../../lib/protocols/dlms/xdlms';
import { encodeData } from '../../lib/protocols/dlms/axdr';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';

const root = path.resolve(__dirname, '../../..');
const acse = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/dlms/acse.json'), 'utf8'));
const H = (s: string) => Buffer.from(s, 'hex');
const keys = { encryptionKey: H(acse.keys.encryptionKey), authenticationKey: H(acse.keys.authenticationKey) };

function initiateOf(a: Apdu) {
  if (a.type !== 'aarq' && a.type !== 'aare') return undefined;
  const i = a.initiate;
  return i && i.type === 'ciphered' ? (i.inner as Apdu) : i;
}

describe('ACSE examples of the Green Book', () => {
  for (const x of acse.apdus) {
    it(x.name, () => {
      const a = decodeApdu(H(x.hex), { keys });
      const e = x.expect;
      assert.equal(a.type, e.type);
      if (a.type !== 'aarq' && a.type !== 'aare') return;
      assert.equal(a.applicationContext, e.applicationContext ?? 1);
      if (e.mechanism !== undefined) assert.equal(a.mechanism, e.mechanism);
      if (e.authenticationValueText) assert.equal(a.authenticationValue?.toString('latin1'), e.authenticationValueText);
      if (e.callingApTitle) assert.equal(a.type === 'aarq' && a.callingApTitle?.toString('hex').toUpperCase(), e.callingApTitle);
      if (a.type === 'aare') {
        assert.equal(a.result, e.result);
        assert.equal(a.diagnostic.value, e.diagnostic);
      }
      if (e.cipheredInitiate) assert.equal(a.type === 'aarq' && a.initiate?.type, 'ciphered');
      const init = initiateOf(a);
      if (e.maxReceivePduSize !== undefined) assert.ok(init && 'maxReceivePduSize' in init && init.maxReceivePduSize === e.maxReceivePduSize);
      if (e.conformance !== undefined) assert.ok(init && 'conformance' in init && init.conformance === e.conformance);
      if (e.vaaName !== undefined) assert.ok(init && init.type === 'initiate-response' && init.vaaName === e.vaaName);
      if (e.initiateError !== undefined) assert.ok(init && init.type === 'confirmed-service-error' && init.errorClass === 6 && init.error === e.initiateError);
    });
  }
  it('our AARQ and AARE encoders reproduce the Green Book bytes', () => {
    const ui = encodeInitiateRequest({ conformance: 0x007e1f, maxReceivePduSize: 1200 });
    assert.equal(encodeAarq({ applicationContext: 1, userInformation: ui }).toString('hex').toUpperCase(), acse.apdus[0].hex);
    assert.equal(encodeAarq({ applicationContext: 1, mechanism: 1, authenticationValue: Buffer.from('12345678'), userInformation: ui }).toString('hex').toUpperCase(), acse.apdus[1].hex);
    const resp = encodeInitiateResponse({ conformance: 0x00501f, maxReceivePduSize: 500 });
    assert.equal(encodeAare({ applicationContext: 1, result: 0, diagnostic: { source: 'user', value: 0 }, userInformation: resp }).toString('hex').toUpperCase(), acse.apdus[4].hex);
    assert.equal(encodeAare({ applicationContext: 1, result: 0, diagnostic: { source: 'user', value: 14 }, mechanism: 5, authenticationValue: Buffer.from('P6wRJ21F'), userInformation: resp }).toString('hex').toUpperCase(), acse.apdus[7].hex);
  });
  it('the Green Book ciphered AARQ carries a dedicated key in its glo-initiate-request', () => {
    const a = decodeApdu(H(acse.apdus[3].hex), { keys });
    const init = initiateOf(a);
    assert.ok(init && init.type === 'initiate-request');
    if (init && init.type === 'initiate-request') assert.equal(init.dedicatedKey?.length, 16);
  });
  it('conformance names and release requests', () => {
    assert.deepEqual(conformanceNames(0x00501f), ['priority-mgmt-supported', 'block-transfer-with-get-or-read', 'get', 'set', 'selective-access', 'event-notification', 'action']);
    assert.deepEqual(decodeApdu(encodeRelease('rlrq')), { type: 'rlrq', reason: 0 });
    assert.deepEqual(decodeApdu(H('6303800100')), { type: 'rlre', reason: 0 });
  });
});

describe('xDLMS services (u9n/dlms-cosem tests/test_xdlms/test_get.py bytes)', () => {
  it('get-request normal, next and with-list', () => {
    const n = decodeApdu(H('c001c1000100002b0100ff0200'));
    assert.deepEqual(n, { type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 1, obis: '0-0:43.1.0.255', attribute: 2 } } });
    assert.deepEqual(decodeApdu(H('c002c100000001')), { type: 'get-request', form: 'next', invoke: DEFAULT_INVOKE, blockNumber: 1 });
    const l = decodeApdu(H('c003c10200010000' + '2a0000ff0200' + '0008' + '0000010000ff0200'));
    assert.ok(l.type === 'get-request' && l.form === 'with-list');
    if (l.type === 'get-request' && l.form === 'with-list') assert.deepEqual(l.requests.map((r) => r.descriptor.obis), ['0-0:42.0.0.255', '0-0:1.0.0.255']);
  });
  it('get-response normal with data and with an error', () => {
    assert.deepEqual(decodeApdu(H('c401c1000600001391')), { type: 'get-response', form: 'normal', invoke: DEFAULT_INVOKE, result: { data: { type: 'double-long-unsigned', value: 5009 } } });
    assert.deepEqual(decodeApdu(H('c401c10101')), { type: 'get-response', form: 'normal', invoke: DEFAULT_INVOKE, result: { error: 1 } });
  });
  it('every service encodes and decodes back to itself', () => {
    const request: AttributeRequest = { descriptor: { classId: 7, obis: '1-0:99.1.0.255', attribute: 2 }, selection: { selector: 1, parameters: { type: 'structure', items: [{ type: 'null-data' }] } } };
    const value = { type: 'double-long-unsigned', value: 42 } as const;
    const all: XdlmsApdu[] = [
      { type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request },
      { type: 'get-response', form: 'with-datablock', invoke: DEFAULT_INVOKE, block: { last: false, number: 1, raw: H('0102') } },
      { type: 'get-response', form: 'with-datablock', invoke: DEFAULT_INVOKE, block: { last: true, number: 3, error: 14 } },
      { type: 'get-response', form: 'with-list', invoke: DEFAULT_INVOKE, results: [{ data: value }, { error: 4 }] },
      { type: 'set-request', form: 'normal', invoke: DEFAULT_INVOKE, request, value },
      { type: 'set-request', form: 'with-first-datablock', invoke: DEFAULT_INVOKE, request, block: { last: false, number: 1, raw: H('AA') } },
      { type: 'set-request', form: 'with-datablock', invoke: DEFAULT_INVOKE, block: { last: true, number: 2, raw: H('BB') } },
      { type: 'set-request', form: 'with-list', invoke: DEFAULT_INVOKE, requests: [request, request], values: [value, value] },
      { type: 'set-response', form: 'normal', invoke: DEFAULT_INVOKE, result: 0 },
      { type: 'set-response', form: 'datablock', invoke: DEFAULT_INVOKE, blockNumber: 1 },
      { type: 'set-response', form: 'last-datablock', invoke: DEFAULT_INVOKE, result: 0, blockNumber: 2 },
      { type: 'set-response', form: 'with-list', invoke: DEFAULT_INVOKE, results: [0, 3] },
      { type: 'action-request', form: 'normal', invoke: DEFAULT_INVOKE, method: { classId: 15, obis: '0-0:40.0.0.255', method: 1 }, parameters: { type: 'octet-string', value: H('0102') } },
      { type: 'action-request', form: 'next-pblock', invoke: DEFAULT_INVOKE, blockNumber: 2 },
      { type: 'action-response', form: 'normal', invoke: DEFAULT_INVOKE, result: 0, returned: { data: { type: 'octet-string', value: H('10000000011122') } } },
      { type: 'event-notification', time: undefined, descriptor: { classId: 1, obis: '0-0:96.11.0.255', attribute: 2 }, value: { type: 'unsigned', value: 5 } },
      { type: 'exception-response', stateError: 1, serviceError: 2 },
    ];
    for (const a of all) assert.deepEqual(decodeService(encodeService(a)), a, `${a.type} ${'form' in a ? a.form : ''}`);
  });
  it('joins get-response blocks into one value, and refuses out-of-order or unfinished blocks', () => {
    const value = encodeData({ type: 'array', items: Array.from({ length: 50 }, (_, i) => ({ type: 'long-unsigned' as const, value: i })) });
    const blocks = [0, 1, 2].map((i) => ({ last: i === 2, number: i + 1, raw: value.subarray(i * 60, i === 2 ? undefined : (i + 1) * 60) }));
    const joined = joinBlocks(blocks);
    assert.ok(joined.type === 'array' && joined.items.length === 50);
    assert.throws(() => joinBlocks([blocks[0], blocks[2]]), DlmsDecodeError);
    assert.throws(() => joinBlocks(blocks.slice(0, 2)), (e: unknown) => e instanceof DlmsDecodeError && e.code === 'truncated');
  });
  it('unknown tags and choices, and trailing bytes, are decode errors', () => {
    assert.throws(() => decodeApdu(H('c009c1')), (e: unknown) => e instanceof DlmsDecodeError && e.code === 'unsupported');
    assert.throws(() => decodeApdu(H('e1')), DlmsDecodeError);
    assert.throws(() => decodeApdu(H('c002c10000000100')), (e: unknown) => e instanceof DlmsDecodeError && /after/.test(e.message));
    assert.throws(() => decodeApdu(H('')), DlmsDecodeError);
    assert.equal(innermost(decodeApdu(H('c002c100000001'))).type, 'get-request');
  });
});
