import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { G13Client } from '../../lib/clients/g13';
import { LorawanPlatformClient } from '../../lib/clients/lorawan-platform';
import { UtilitarianClient } from '../../lib/clients/utilitarian';
import { AnswerLimitError, boundedFetch, redactUrl, scrub } from '../../lib/clients/bounded-fetch';
import { exchange, parseHex, TcpLink, withDeadline, LinkOverflowError, LinkDeadlineError } from '../../lib/protocols/hex';
import { readout } from '../../lib/protocols/iec62056-21';
import { MbusMaster, MAX_ANSWER_BYTES } from '../../lib/protocols/mbus/master';
import { TcpTransport } from '../../lib/protocols/mbus/transport';
import { endlessHttp, endlessTcp, measure, type Fake, type Style } from './fake-endless';

const SECRETS = ['g13-Secret-pw', 'lora-Secret-pw', 'lora-Secret-token', 'util-Secret-token'];
const RSS_MB = 100;

/** The call rejects with `pattern` before `withinMs`, RSS grows < RSS_MB, and no secret is in the message. */
async function expectBounded(job: () => Promise<unknown>, pattern: RegExp, withinMs: number): Promise<Error> {
  const { err, ms, rssMb } = await measure(job);
  assert.match(err.message, pattern);
  assert.ok(ms < withinMs, `rejected after ${ms} ms, expected < ${withinMs}`);
  assert.ok(rssMb < RSS_MB, `RSS grew by ${rssMb.toFixed(1)} MB`);
  for (const s of SECRETS) assert.ok(!err.message.includes(s), `the message carries a secret: ${err.message}`);
  return err;
}

const fakes: Fake[] = [];
async function http(style: Style) { const f = await endlessHttp(style); fakes.push(f); return f; }
async function tcp(style: Style, byte?: string, greeting?: string) { const f = await endlessTcp(style, byte, greeting); fakes.push(f); return f; }
after(async () => { await Promise.all(fakes.map((f) => f.close())); });

describe('bounded HTTP answers', () => {
  it('boundedFetch aborts at the byte cap and at the deadline, naming client, host and cap', async () => {
    const flood = await http('flood');
    const e = await expectBounded(() => boundedFetch('demo', `${flood.url}/x`, {}, { maxBytes: 100_000, timeoutMs: 5000 }), /^demo: the answer from 127\.0\.0\.1:\d+ exceeds the 100000 bytes cap; aborted$/, 3000);
    assert.ok(e instanceof AnswerLimitError && e.kind === 'too-large');
    const trickle = await http('trickle');
    await expectBounded(() => boundedFetch('demo', trickle.url, {}, { maxBytes: 100_000, timeoutMs: 600 }), /^demo: no complete answer from 127\.0\.0\.1:\d+ within 600 ms; aborted$/, 2000);
  });

  it('G13: an endless answer fails the call at the 1 MiB cap; a trickle at the deadline', async () => {
    const flood = await http('flood');
    const c = new G13Client({ url: flood.url, user: 'admin', password: SECRETS[0] });
    await expectBounded(() => c.energy('ABB_8'), /G13 http:\/\/127\.0\.0\.1:\d+ meter ABB_8: GET \/meters\/ABB_8\/energy\/active: the answer exceeds the 1 MiB cap; aborted/, 5000);
    const trickle = await http('trickle');
    const t = new G13Client({ url: trickle.url, user: 'admin', password: SECRETS[0], timeout: 800 });
    await expectBounded(() => t.energy('ABB_8'), /G13 http:\/\/127\.0\.0\.1:\d+ meter ABB_8: .*no complete answer within 800 ms/, 3000);
    assert.throws(() => new G13Client({ url: flood.url, user: 'a', password: 'b', maxBytes: 1e9 }), /maxBytes must be a number 1024\.\.16777216, got 1000000000/);
  });

  it('LoRaWAN platform: an endless answer fails at the 4 MiB cap; a trickle at the deadline', async () => {
    const flood = await http('flood');
    const c = new LorawanPlatformClient({ url: flood.url, username: 'op', password: SECRETS[1] });
    await expectBounded(() => c.prices(), /lorawan-platform toLogin: the answer from 127\.0\.0\.1:\d+ exceeds the 4 MiB cap; aborted/, 5000);
    const trickle = await http('trickle');
    const t = new LorawanPlatformClient({ url: trickle.url, apiToken: SECRETS[2], timeoutMs: 800 });
    await expectBounded(() => t.prices(), /lorawan-platform readAllPricesV2: no complete answer from 127\.0\.0\.1:\d+ within 800 ms/, 3000);
  });

  it('Utilitarian: an endless list page fails at the 8 MiB cap; a trickle at the deadline', async () => {
    const flood = await http('flood');
    const c = new UtilitarianClient({ url: `${flood.url}/v1`, token: SECRETS[3] });
    await expectBounded(() => c.listMeterDevices(), /GET http:\/\/127\.0\.0\.1:\d+\/v1\/metering\/meter-devices: utilitarian: the answer from 127\.0\.0\.1:\d+ exceeds the 8 MiB cap/, 5000);
    const trickle = await http('trickle');
    const t = new UtilitarianClient({ url: `${trickle.url}/v1`, token: SECRETS[3], timeoutMs: 800 });
    await expectBounded(() => t.listMeterDevices(), /utilitarian: no complete answer from 127\.0\.0\.1:\d+ within 800 ms/, 3000);
  });

  it('never puts URL credentials, passwords or tokens into messages', async () => {
    assert.equal(redactUrl('http://u:pw@h:8/a/b?token=x#f'), 'http://h:8/a/b');
    assert.equal(scrub('GET http://u:pw@h/ said pw-123456', 'pw-123456'), 'GET http://h/ said ***');
    assert.throws(() => new UtilitarianClient({ url: 'https://me:util-Secret-token@amr.example/v1', token: 't' }),
      (e: Error) => /must not carry a user name or password/.test(e.message) && !e.message.includes('util-Secret-token'));
    const lora = new LorawanPlatformClient({ url: `http://op:${SECRETS[1]}@127.0.0.1:1/api`, apiToken: SECRETS[2], timeoutMs: 2000 });
    const err = await lora.prices().then(() => new Error('resolved'), (e: Error) => e);
    assert.ok(!SECRETS.some((s) => err.message.includes(s)), err.message);
    assert.throws(() => new G13Client({ url: `http://admin:${SECRETS[0]}@[bad`, user: 'admin', password: 'x' }), (e: Error) => !e.message.includes(SECRETS[0]));
  });
});

describe('bounded device answers (raw TCP)', () => {
  it('HEX: an endless answer fails at the 256 KiB link cap; a trickle at the exchange deadline', async () => {
    const flood = await tcp('flood');
    const link = await TcpLink.open('127.0.0.1', flood.port);
    const e = await expectBounded(() => exchange(link, [parseHex('0103')], { waitingMs: 1000 }), /127\.0\.0\.1:\d+: the answer exceeds the 256 KiB cap; connection dropped/, 5000);
    assert.ok(e instanceof LinkOverflowError);
    await link.close();
    const trickle = await tcp('trickle');
    const slow = await TcpLink.open('127.0.0.1', trickle.port);
    const d = await expectBounded(() => exchange(slow, [parseHex('0103')], { waitingMs: 1000, gapMs: 400, deadlineMs: 1200 }), /127\.0\.0\.1:\d+: the exchange not complete within 1200 ms; connection dropped/, 3000);
    assert.ok(d instanceof LinkDeadlineError);
    await slow.close();
  });

  it('IEC 62056-21: an endless readout fails at the cap; a trickling one at the session deadline', async () => {
    const flood = await tcp('flood', 'A', '/ISK5MT174-0001\r\n');
    const link = await TcpLink.open('127.0.0.1', flood.port, true);
    await expectBounded(() => readout(link, { timeoutMs: 10_000 }), /the answer exceeds the 256 KiB cap/, 5000);
    await link.close();
    const trickle = await tcp('trickle', 'A', '/ISK5MT174-0001\r\n');
    const slow = await TcpLink.open('127.0.0.1', trickle.port, true);
    await expectBounded(() => withDeadline(slow, 1500, 'the readout', () => readout(slow, { timeoutMs: 10_000 })), /the readout not complete within 1500 ms/, 3500);
    await slow.close();
  });

  it(`M-Bus over TCP: an endless answer is cut off after ${MAX_ANSWER_BYTES} bytes; a trickle at the answer deadline`, async () => {
    for (const [style, pattern] of [['flood', /garbled answer from primary address 5: more than \d+ bytes \(an endless answer\); cut off/], ['trickle', /garbled answer from primary address 5: incomplete or unframed bytes/]] as const) {
      const fake = await tcp(style);
      const master = new MbusMaster(new TcpTransport({ kind: 'tcp', host: '127.0.0.1', port: fake.port }), { baudRate: 9600, retries: 0, deadBackoff: { base: 0, max: 0 } });
      try {
        await expectBounded(() => master.read({ primary: 5 }), pattern, 5000);
      } finally {
        await master.close();
      }
    }
  });
});

describe('IEC 62056-21 programming mode keeps P1 out of messages', () => {
  it('a head that echoes P1 without its BCC times out without showing the password', async () => {
    const net = await import('node:net');
    const { command, program } = await import('../../lib/protocols/iec62056-21');
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        if (text.startsWith('/?')) s.write('/ISK5MT174-0001\r\n');
        else if (d[0] === 0x06) s.write(command('P0', '(12345678)'));
        else if (text.includes('P1')) s.write(d.subarray(0, d.length - 1)); // the echo, cut before its BCC
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const link = await TcpLink.open('127.0.0.1', (server.address() as import('node:net').AddressInfo).port, true);
    try {
      const err = await program(link, 'Pw-Secret-77', { timeoutMs: 400 }).then(() => new Error('resolved'), (e: Error) => e);
      assert.match(err.message, /no P1 \(password\) within 400 ms/);
      assert.ok(!err.message.includes('Pw-Secret-77'), err.message);
      assert.match(err.message, /P1.*\*\*\*/, 'the echo is shown, masked');
    } finally {
      await link.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
