/**
 * The push receiver on made-up streams: ciphered pushes in every framing, segments, junk and
 * resynchronisation, replayed and foreign counters, wrong keys, limits, and the stream adapter
 * over loopback TCP.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PushDecoder, type PushMessage } from '../../lib/protocols/dlms/push';
import { encodePush, encodePushApdu, framePush, type PushValue } from '../../lib/protocols/dlms/push-encode';
import { PushReceiver } from '../../lib/protocols/dlms/push-stream';
import { encodeService } from '../../lib/protocols/dlms/xdlms';

const EK = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
const AK = Buffer.from('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF', 'hex');
const TITLE = Buffer.from('4B464D1010000023', 'hex');
const keys = { encryptionKey: EK, authenticationKey: AK };
const T = Date.UTC(2026, 0, 15, 11, 0, 0);
const values: PushValue[] = [
  { obis: '1-0:1.8.0', raw: 12_345_678, scaler: 0, unit: 30 },
  { obis: '1-0:1.7.0', raw: 1234, scaler: 0, unit: 27 },
  { obis: '1-0:32.7.0', raw: 2306, scaler: -1, unit: 35 },
];
const push = (framing: 'hdlc' | 'wrapper' | 'mbus', ic: number, extra: object = {}) =>
  encodePush({ values, time: T, utcOffsetMinutes: 60, framing, cipher: { keys, systemTitle: TITLE, invocationCounter: ic }, ...extra });

function feedAll(d: PushDecoder, bytes: Buffer, chunk = bytes.length): { messages: PushMessage[]; errors: Error[] } {
  const out = { messages: [] as PushMessage[], errors: [] as Error[] };
  for (let p = 0; p < bytes.length; p += chunk) {
    const r = d.push(bytes.subarray(p, p + chunk));
    out.messages.push(...r.messages);
    out.errors.push(...r.errors);
  }
  return out;
}

function checkReadings(m: PushMessage): void {
  assert.equal(m.time, T);
  assert.equal(m.timeSource, 'notification');
  const by = Object.fromEntries(m.readings.map((r) => [r.obis, [r.value, r.unit, r.meter, r.time]]));
  assert.deepEqual(by['1-0:1.8.0'], [12345.678, 'kWh', 'grid', T]);
  assert.deepEqual(by['1-0:1.7.0'], [1.234, 'kW', 'grid', T]);
  assert.deepEqual(by['1-0:32.7.0'], [230.6, 'V', 'grid', T]);
}

describe('PushDecoder', () => {
  for (const framing of ['hdlc', 'wrapper', 'mbus'] as const) {
    it(`decrypts an authenticated and encrypted push in ${framing} framing (auto-detected), byte by byte`, () => {
      const d = new PushDecoder({ meter: 'grid', keys });
      const bytes = push(framing, 7, { maxInfo: 64 });
      const { messages, errors } = feedAll(d, bytes, 1);
      assert.deepEqual(errors, []);
      assert.equal(messages.length, 1);
      checkReadings(messages[0]);
      assert.deepEqual([messages[0].framing, messages[0].systemTitle, messages[0].invocationCounter, messages[0].securityControl], [framing, TITLE.toString('hex').toUpperCase(), 7, 0x30]);
    });
  }

  it('joins HDLC segments and M-Bus segments', () => {
    const hdlc = push('hdlc', 1, { maxInfo: 32 });
    assert.ok(hdlc.filter((b, i) => b === 0x7e && (hdlc[i + 1] & 0xf8) === 0xa8).length >= 3, 'at least three segmented frames');
    const many = encodePush({ values: Array.from({ length: 30 }, (_, i) => ({ obis: `1-0:${i + 1}.8.0`, raw: i, scaler: 0, unit: 30 })), time: T, framing: 'mbus' });
    assert.ok(many.length > 600, 'more than two M-Bus segments');
    const d = new PushDecoder({ meter: 'grid' });
    const r = feedAll(d, Buffer.concat([many, many]), 100);
    assert.deepEqual(r.errors, []);
    assert.equal(r.messages.length, 2);
    assert.equal(r.messages[0].readings.length, 30);
    checkReadings(feedAll(new PushDecoder({ meter: 'grid', keys }), hdlc).messages[0]);
  });

  it('skips junk, resynchronises after a damaged frame and reports it', () => {
    const d = new PushDecoder({ meter: 'grid', keys });
    const good1 = push('hdlc', 1);
    const bad = Buffer.from(push('hdlc', 2));
    bad[bad.length - 3] ^= 0xff; // FCS
    const good3 = push('hdlc', 3);
    const junk = Buffer.from('FFFF0068AA7EA0', 'hex');
    const r = feedAll(d, Buffer.concat([junk, good1, junk, bad, Buffer.from('123456', 'hex'), good3]), 5);
    assert.equal(r.messages.length, 2);
    assert.deepEqual(r.messages.map((m) => m.invocationCounter), [1, 3]);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0].message, /FCS .* does not match/);
    assert.ok(d.stats.skipped >= 9, `${d.stats.skipped} bytes skipped`);
  });

  it('refuses a replayed invocation counter, and one that goes back, without losing later pushes', () => {
    const d = new PushDecoder({ meter: 'grid', keys });
    const first = push('wrapper', 100);
    const r = feedAll(d, Buffer.concat([first, first, push('wrapper', 99), push('wrapper', 101)]));
    assert.deepEqual(r.messages.map((m) => m.invocationCounter), [100, 101]);
    assert.equal(r.errors.length, 2);
    for (const e of r.errors) assert.match(e.message, /invocation counter (100|99) of system title 4B464D1010000023 is not above the last accepted \(100\): replayed push refused/);
    assert.equal(d.stats.replays, 2);
  });

  it('a wrong key, a missing AK, no key and a plain push when keys are set are errors that name the problem and never the key', () => {
    const wrong = new PushDecoder({ meter: 'grid', keys: { encryptionKey: Buffer.alloc(16, 1), authenticationKey: AK } });
    const e1 = feedAll(wrong, push('hdlc', 1)).errors;
    assert.match(e1[0].message, /authentication tag does not match/);
    const noAk = feedAll(new PushDecoder({ meter: 'grid', keys: { encryptionKey: EK } }), push('hdlc', 1)).errors;
    assert.match(noAk[0].message, /authentication key/i);
    const none = feedAll(new PushDecoder({ meter: 'grid' }), push('hdlc', 1)).errors;
    assert.match(none[0].message, /no key configured/);
    const plain = feedAll(new PushDecoder({ meter: 'grid', keys }), encodePush({ values, time: T, framing: 'hdlc' })).errors;
    assert.match(plain[0].message, /plain push refused/);
    for (const e of [...e1, ...noAk, ...none, ...plain]) assert.doesNotMatch(e.message, /000102030405|D0D1D2D3/i);
  });

  it('encryption-only pushes (SC 0x20) decrypt with the EK alone', () => {
    const bytes = encodePush({ values, time: T, utcOffsetMinutes: 60, framing: 'mbus', cipher: { keys: { encryptionKey: EK }, systemTitle: TITLE, invocationCounter: 5, securityControl: 0x20 } });
    const r = feedAll(new PushDecoder({ meter: 'grid', keys: { encryptionKey: EK } }), bytes);
    assert.deepEqual(r.errors, []);
    checkReadings(r.messages[0]);
  });

  it('bounds segments and frame sizes: too many segments are dropped with an error, the next push still decodes', () => {
    const d = new PushDecoder({ meter: 'grid', maxSegments: 3 });
    const long = encodePush({ values: Array.from({ length: 20 }, (_, i) => ({ obis: `1-0:${i + 1}.8.0`, raw: i, scaler: 0, unit: 30 })), time: T, framing: 'hdlc', maxInfo: 32 });
    const r = feedAll(d, Buffer.concat([long, encodePush({ values, time: T, utcOffsetMinutes: 60, framing: 'hdlc' })]));
    assert.match(r.errors[0].message, /longer than 3 segments/);
    assert.equal(r.messages.length, 1);
    checkReadings(r.messages[0]);
    // a wrapper header announcing more than maxFrame is junk, not a 60 kB wait
    const w = new PushDecoder({ meter: 'grid', framing: 'wrapper', maxFrame: 1000 });
    const huge = Buffer.from('0001000100100FF00F', 'hex');
    const r2 = feedAll(w, Buffer.concat([huge, encodePush({ values, time: T, utcOffsetMinutes: 60, framing: 'wrapper' })]));
    assert.equal(r2.messages.length, 1);
  });

  it('a partial frame is dropped by flush() (a silence on the line) and the next frame decodes', () => {
    const d = new PushDecoder({ meter: 'grid' });
    const f = encodePush({ values, time: T, utcOffsetMinutes: 60, framing: 'hdlc' });
    assert.equal(d.push(f.subarray(0, 40)).messages.length, 0);
    assert.equal(d.flush(), 40);
    assert.equal(d.push(f).messages.length, 1);
  });

  it('a push without date-time takes the receive time; an event notification names its attribute', () => {
    const now = Date.UTC(2026, 5, 1);
    const apdu = encodeService({ type: 'data-notification', longInvokeId: 1, body: { type: 'structure', items: [
      { type: 'structure', items: [{ type: 'octet-string', value: Buffer.from([1, 0, 1, 7, 0, 255]) }, { type: 'double-long-unsigned', value: 500 }, { type: 'structure', items: [{ type: 'integer', value: 0 }, { type: 'enum', value: 27 }] }] },
    ] } });
    const d = new PushDecoder({ meter: 'grid', now: () => now });
    const [m] = d.push(framePush(apdu, 'wrapper')).messages;
    assert.deepEqual([m.time, m.timeSource, m.readings[0].value, m.readings[0].unit], [now, 'received', 0.5, 'kW']);
    const ev = encodeService({ type: 'event-notification', descriptor: { classId: 1, obis: '0-0:96.11.0.255', attribute: 2 }, value: { type: 'long-unsigned', value: 47 } });
    const [e] = d.push(framePush(ev, 'hdlc')).messages;
    assert.deepEqual([e.type, e.event], ['event-notification', { classId: 1, obis: '0-0:96.11.0', attribute: 2, value: 47 }]);
    assert.match(d.push(framePush(encodeService({ type: 'exception-response', stateError: 1, serviceError: 2 }), 'hdlc')).errors[0].message, /not a push/);
  });

  it('explicit framing ignores the other framings as junk', () => {
    const d = new PushDecoder({ meter: 'grid', framing: 'mbus' });
    const r = feedAll(d, Buffer.concat([encodePush({ values, time: T, framing: 'hdlc' }), encodePush({ values, time: T, framing: 'mbus' })]));
    assert.equal(r.messages.length, 1);
    assert.equal(r.messages[0].framing, 'mbus');
    assert.throws(() => new PushDecoder({ meter: 'x', framing: 'p1' as never }), /framing "p1" is not auto, hdlc, wrapper or mbus/);
  });
});

describe('PushReceiver over TCP', () => {
  it('receives pushes from a bridge, reconnects after the bridge drops, and closes', async () => {
    const sockets = new Set<net.Socket>();
    let ic = 10;
    const server = net.createServer((s) => { sockets.add(s); s.on('error', () => undefined); s.write(push('hdlc', ic++)); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const rx = new PushReceiver({ source: { host: '127.0.0.1', port }, decoder: { meter: 'grid', keys }, backoffMs: 50 });
    const got: PushMessage[] = [];
    const errors: Error[] = [];
    rx.on('push', (m: PushMessage) => got.push(m));
    rx.on('error', (e: Error) => errors.push(e));
    const until = async (cond: () => boolean, what: string) => {
      const end = Date.now() + 5000;
      while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 10)); }
    };
    try {
      rx.start();
      await until(() => got.length === 1, 'the first push');
      for (const s of sockets) s.destroy();
      await until(() => got.length === 2, 'a push after the reconnect');
      assert.deepEqual(got.map((m) => m.invocationCounter), [10, 11]);
      assert.ok(errors.some((e) => /closed/.test(e.message)), 'the dropped connection is reported');
      checkReadings(got[1]);
    } finally {
      await rx.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('ems-sim dlms push options', () => {
  it('parses --push-to/--push-interval/--push-framing/--push-cipher and names bad values', async () => {
    const { dlmsCli } = await import('../../lib/sim/dlms/cli');
    const o = dlmsCli.parse({ 'push-to': '127.0.0.1:4070', 'push-interval': '2', 'push-cipher': 'authenticated', 'push-framing': 'mbus' });
    assert.deepEqual(o.push, { intervalMs: 2000, framing: 'mbus', cipher: 'authenticated', serial: false, to: { host: '127.0.0.1', port: 4070 } });
    assert.equal(dlmsCli.parse({}).push, undefined);
    assert.throws(() => dlmsCli.parse({ 'push-to': 'nohost' }), /--push-to: "nohost" is not HOST:PORT/);
    assert.throws(() => dlmsCli.parse({ 'push-serial': true }), /--push-serial needs --serial PATH/);
    assert.throws(() => dlmsCli.parse({ 'push-to': 'h:1', 'push-cipher': 'aes' }), /--push-cipher: "aes" is not none, encrypted or authenticated/);
    assert.throws(() => dlmsCli.parse({ 'push-to': 'h:1', 'push-framing': 'p1' }), /--push-framing: "p1" is not hdlc, wrapper or mbus/);
  });
});

describe('PushDecoder on mutated streams', () => {
  it('20000 mutated frames in random chunks: only decode/security errors, never a throw, the buffer bounded', async () => {
    const { DlmsDecodeError } = await import('../../lib/protocols/dlms/errors');
    const { DlmsSecurityError } = await import('../../lib/protocols/dlms/session');
    const fixtures = (await import('node:fs')).readFileSync(require.resolve('../../../test/fixtures/dlms/push-published.json'), 'utf8');
    const frames = [
      ...(JSON.parse(fixtures).telegrams as { hex: string }[]).map((t) => Buffer.from(t.hex, 'hex')),
      push('hdlc', 1, { maxInfo: 40 }), push('mbus', 2), push('wrapper', 3),
    ];
    let seed = 21;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const d = new PushDecoder({ meter: 'fuzz', keys, maxFrame: 2048 });
    let messages = 0;
    for (let i = 0; i < 20_000; i++) {
      const f = Buffer.from(frames[rnd(frames.length)]);
      const kind = rnd(4);
      let m: Buffer = f;
      if (kind === 0) for (let k = 0; k <= rnd(4); k++) m[rnd(m.length)] = rnd(256);
      else if (kind === 1) m = f.subarray(0, rnd(f.length));
      else if (kind === 2) m = Buffer.concat([f.subarray(0, rnd(f.length)), Buffer.from([rnd(256), rnd(256)]), f.subarray(rnd(f.length))]);
      for (let p = 0; p < m.length;) {
        const n = 1 + rnd(64);
        const r = d.push(m.subarray(p, p + n));
        for (const e of r.errors) assert.ok(e instanceof DlmsDecodeError || e instanceof DlmsSecurityError, `${e.name}: ${e.message}`);
        messages += r.messages.length;
        p += n;
      }
      if (i % 1000 === 999) assert.ok(d.flush() <= 2048 + 8, 'pending bytes stay below one frame');
    }
    assert.ok(messages > 0, 'unmutated frames still decode among the mutated ones');
  });
});
