/**
 * Published push telegrams (grid operators' customer ports, Norwegian HAN) through the inspection layer
 * and through `ems-decode dlms`: the decoder's view matches the values each source states.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { inspect, type ObisValue } from '../../lib/protocols/dlms/decode';
import { decodeDlmsText } from '../../lib/protocols/dlms/decode-cli';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';

const root = path.resolve(__dirname, '../../..');
const { telegrams } = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/dlms/push.json'), 'utf8'));
const H = (s: string) => Buffer.from(s, 'hex');

interface Shown { transport: string; apdu: Record<string, unknown>; values: ObisValue[] }

function checkValues(values: ObisValue[], expected: Record<string, string | [number, string]>) {
  for (const [obis, want] of Object.entries(expected)) {
    const v = values.find((x) => x.obis === obis);
    assert.ok(v, `${obis} is decoded`);
    if (Array.isArray(want)) assert.deepEqual([v.value, v.unit], want, obis);
    else assert.equal(v.value, want, obis);
  }
}

describe('published push telegrams', () => {
  for (const t of telegrams) {
    it(t.name, () => {
      const shown = inspect(H(t.hex), t.key ? { keys: { encryptionKey: H(t.key) } } : {}) as unknown as Shown;
      assert.equal(shown.transport, t.transport);
      let body = shown.apdu;
      if (t.plaintext || t.plaintextPrefix) {
        assert.equal(body.type, 'general-glo-ciphering');
        assert.equal(body.systemTitle, t.systemTitle);
        assert.equal(body.invocationCounter, t.invocationCounter);
        if (t.plaintext) assert.equal(String(body.plaintext).toLowerCase(), t.plaintext);
        else assert.ok(String(body.plaintext).toLowerCase().startsWith(t.plaintextPrefix));
        body = body.decrypted as Record<string, unknown>;
      }
      assert.equal(body.type, 'data-notification');
      if (t.time) {
        const dt = body.dateTime as Record<string, number>;
        assert.equal(new Date(Date.UTC(dt.year, dt.month - 1, dt.dayOfMonth, dt.hour, dt.minute, dt.second) + dt.deviation * 60_000).toISOString(), t.time);
      }
      checkValues(shown.values, t.values);
      if (t.text) assert.match(JSON.stringify(body.body), new RegExp(`"${t.text}"`, 'i'));
      if (t.clock) {
        const clock = JSON.stringify(body.body);
        for (const [k, v] of Object.entries(t.clock)) assert.match(clock, new RegExp(`"${k}":${v}[,}]`), `clock ${k}`);
      }
    });
  }
  it('the encrypted telegram with a wrong key is an error naming the key problem, and without a key shows its header only', () => {
    const t = telegrams[0];
    const noKey = inspect(H(t.hex)) as unknown as Shown;
    assert.equal(noKey.apdu.decrypted, false);
    // encryption only (SC 0x21) has no tag: a wrong key yields garbage that fails to decode, still a DlmsDecodeError
    assert.throws(() => inspect(H(t.hex), { keys: { encryptionKey: H('00112233445566778899AABBCCDDEEFF') } }), DlmsDecodeError);
    const cut = H(t.hex).subarray(0, 200);
    assert.throws(() => inspect(cut), DlmsDecodeError);
  });
});

describe('ems-decode dlms', () => {
  it('decodes, decrypts with --key/--auth/--system-title and never prints the key', () => {
    const out = decodeDlmsText('--key 000102030405060708090A0B0C0D0E0F --auth D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF --system-title 4D4D4D0000BC614E C8 1E 30 01234567 411312FF935A47566827C467BC 7D825C3BE4A77C3FCC056B6B', {}) as Shown;
    const text = JSON.stringify(out);
    assert.match(text, /"obis":"0-0:1.0.0.255"/);
    assert.doesNotMatch(text, /000102030405060708090A0B0C0D0E0F|D0D1D2D3/i);
    assert.throws(() => decodeDlmsText('--key 0011 C0', {}), /--key must be 16 bytes/);
    assert.throws(() => decodeDlmsText('--bogus 1 C0', {}), /unknown option --bogus/);
    const env = decodeDlmsText(telegrams[0].hex, { EMS_DLMS_KEY: telegrams[0].key }) as Shown;
    assert.ok(env.values.length >= 8);
  });
  it('the command prints JSON and exits 0, and exits 1 naming the offset on a bad FCS', async () => {
    const bin = path.join(root, 'dist/bin/ems-decode.js');
    const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = execFile(process.execPath, [bin, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`ems-decode did not finish: ${err.message}`));
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
    const aidon = telegrams.find((t: { name: string }) => /Aidon 6534/.test(t.name));
    const ok = await run(['dlms', aidon.hex]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).values.find((v: ObisValue) => v.obis === '1-0:1.7.0').value, 1743);
    const bad = await run(['dlms', '7EA0070321930F027E']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /FCS .*at byte 6/);
    const help = await run(['--help']);
    assert.match(help.stdout, /dlms +DLMS\/COSEM/);
  });
});
