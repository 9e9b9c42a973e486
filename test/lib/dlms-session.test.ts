/**
 * The DLMS client session over real loopback TCP sockets against a scripted meter: the wrapper and
 * HDLC-over-TCP (segmentation both ways, a lost and a garbled frame recovered), LLS, HLS-GMAC, ciphered
 * APDUs, invocation counters kept in a file across restarts, a replayed server counter, timeouts.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DlmsData } from '../../lib/protocols/dlms/axdr';
import { decodeApdu } from '../../lib/protocols/dlms/apdu';
import { clientAddress, serverAddress } from '../../lib/protocols/dlms/hdlc';
import { encodeService } from '../../lib/protocols/dlms/xdlms';
import { AssociationError, type AssociationOptions } from '../../lib/protocols/dlms/association';
import { FileCounterStore, MemoryCounterStore, type CounterStore } from '../../lib/protocols/dlms/counter';
import { DlmsSecurityError, DlmsServiceError, DlmsSession } from '../../lib/protocols/dlms/session';
import { openTcpStream } from '../../lib/protocols/dlms/transport';
import { type ApduChannel, DlmsTimeoutError, HdlcChannel, WrapperChannel } from '../../lib/protocols/dlms/transport-channel';
import { ScriptedMeter, type ScriptedMeterOptions } from '../fixtures/dlms-scripted-meter';
import { within } from '../fixtures/within';

const ENERGY = '1-0:1.8.0.255';
const keys = { encryptionKey: Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex'), authenticationKey: Buffer.from('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF', 'hex') };
const clientTitle = Buffer.from('4142434445464748', 'hex');
const longText: DlmsData = { type: 'visible-string', value: 'a long value that needs several blocks and HDLC segments '.repeat(6) };

function objects(): Map<string, DlmsData> {
  return new Map<string, DlmsData>([
    [`${ENERGY}/2`, { type: 'double-long-unsigned', value: 1234567 }],
    [`${ENERGY}/3`, { type: 'structure', items: [{ type: 'integer', value: 0 }, { type: 'enum', value: 30 }] }],
    ['0-0:96.1.0.255/2', longText],
  ]);
}

const meters: ScriptedMeter[] = [];
after(async () => { await Promise.all(meters.map((m) => m.close())); });

async function meter(o: Partial<ScriptedMeterOptions> & { framing: 'wrapper' | 'hdlc' }): Promise<{ meter: ScriptedMeter; port: number }> {
  const m = new ScriptedMeter({ objects: objects(), ...o });
  meters.push(m);
  return { meter: m, port: await within(m.listen(), 5000, 'the scripted meter to listen') };
}

async function channel(framing: 'wrapper' | 'hdlc', port: number, o: { timeoutMs?: number; retries?: number; maxInfo?: number } = {}): Promise<ApduChannel> {
  const stream = await within(openTcpStream('127.0.0.1', port), 5000, 'the TCP connection to the scripted meter');
  if (framing === 'wrapper') return new WrapperChannel(stream, { timeoutMs: o.timeoutMs ?? 3000 });
  return new HdlcChannel(stream, {
    client: clientAddress(16), server: serverAddress(1, 17), frameTimeoutMs: o.timeoutMs ?? 400, retries: o.retries ?? 3,
    proposed: { maxInfoTransmit: o.maxInfo ?? 128, maxInfoReceive: o.maxInfo ?? 128 },
  });
}

async function session(ch: ApduChannel, a: AssociationOptions, counters?: CounterStore): Promise<DlmsSession> {
  const s = new DlmsSession({ channel: ch, counters, ...a });
  await within(s.open(), 8000, `the ${a.mechanism} association`);
  return s;
}

const hls = (k = keys): AssociationOptions => ({ mechanism: 'high-gmac', ciphered: true, systemTitle: clientTitle, keys: k });

for (const framing of ['wrapper', 'hdlc'] as const) {
  describe(`DLMS session over ${framing === 'wrapper' ? 'the TCP wrapper' : 'HDLC over TCP'}`, () => {
    it('associates as the public client, GETs a register, a list, a value in blocks, SETs and releases', async () => {
      const { meter: m, port } = await meter({ framing, blockSize: 40 });
      const s = await session(await channel(framing, port, { maxInfo: 32 }), { mechanism: 'lowest' });
      assert.deepEqual(await within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'GET of the energy register'), { type: 'double-long-unsigned', value: 1234567 });
      const list = await within(s.getList([{ descriptor: { classId: 3, obis: ENERGY, attribute: 3 } }, { descriptor: { classId: 3, obis: '1-0:2.8.0.255', attribute: 2 } }]), 5000, 'GET with-list');
      assert.deepEqual(list, [{ data: { type: 'structure', items: [{ type: 'integer', value: 0 }, { type: 'enum', value: 30 }] } }, { error: 4 }]);
      assert.deepEqual(await within(s.get({ classId: 1, obis: '0-0:96.1.0.255', attribute: 2 }), 5000, 'GET in blocks'), longText);
      assert.ok(m.requests.filter((t) => t === 'get-request').length >= 5, 'the long value came in several blocks');
      await within(s.set({ classId: 1, obis: '0-0:96.1.0.255', attribute: 2 }, { type: 'visible-string', value: 'x'.repeat(70) }), 5000, 'SET');
      assert.deepEqual(m.objects.get('0-0:96.1.0.255/2'), { type: 'visible-string', value: 'x'.repeat(70) });
      if (framing === 'hdlc') assert.ok(m.segments.in >= 2 && m.segments.out >= 2, `segmented both ways (${JSON.stringify(m.segments)})`);
      await assert.rejects(s.get({ classId: 3, obis: '1-0:2.8.0.255', attribute: 2 }), (e: unknown) => e instanceof DlmsServiceError && /GET 1-0:2\.8\.0\.255\/2 \(class 3\): object-undefined/.test(e.message) && e.result === 4);
      await within(s.close(), 5000, 'the release');
    });

    it('HLS-GMAC with ciphered APDUs: associates, GETs, and a wrong key is refused', async () => {
      const { meter: m, port } = await meter({ framing, keys });
      const s = await session(await channel(framing, port), hls(), new MemoryCounterStore(7));
      assert.deepEqual(await within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'a ciphered GET'), { type: 'double-long-unsigned', value: 1234567 });
      assert.deepEqual(m.requests, ['action-request', 'get-request'], 'pass 3 and the GET arrived ciphered and were deciphered by the meter');
      assert.deepEqual(m.clientCounters, [7, 9, 10], 'AARQ 7, HLS reply 9 (f(StoC) used 8), GET 10');
      await within(s.close(), 5000, 'the release');
      const wrong = { ...keys, authenticationKey: Buffer.alloc(16, 0x11) };
      const refused = new DlmsSession({ channel: await channel(framing, port), counters: new MemoryCounterStore(), ...hls(wrong) });
      await assert.rejects(within(refused.open(), 8000, 'the refused association'), (e: unknown) => e instanceof AssociationError && e.code === 'authentication');
      // without ciphering the AARQ passes and pass 3's f(StoC) is refused
      const plain = new DlmsSession({ channel: await channel(framing, port), counters: new MemoryCounterStore(), mechanism: 'high-gmac', systemTitle: clientTitle, keys: wrong });
      await assert.rejects(within(plain.open(), 8000, 'the refused HLS pass 3'), (e: unknown) => e instanceof AssociationError && /refused our f\(StoC\): read-write-denied/.test(e.message));
      const right = await session(await channel(framing, port), { mechanism: 'high-gmac', systemTitle: clientTitle, keys }, new MemoryCounterStore());
      await right.close();
    });
  });
}

describe('DLMS session: security and failures', () => {
  it('LLS: the right password is accepted, a wrong one refused naming the diagnostic', async () => {
    const { port } = await meter({ framing: 'wrapper', password: Buffer.from('12345678') });
    const s = await session(await channel('wrapper', port), { mechanism: 'low', password: Buffer.from('12345678') });
    await s.close();
    const wrong = new DlmsSession({ channel: await channel('wrapper', port), mechanism: 'low', password: Buffer.from('00000000') });
    await assert.rejects(within(wrong.open(), 5000, 'the LLS refusal'), (e: unknown) => e instanceof AssociationError && /rejected-permanent: authentication-failure/.test(e.message) && !/00000000/.test(e.message));
  });

  it('never reuses an invocation counter across a restart with the same counter file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-counter-'));
    const file = path.join(dir, 'meter.counter');
    try {
      const { meter: m, port } = await meter({ framing: 'wrapper', keys });
      for (let run = 0; run < 2; run++) {
        const s = await session(await channel('wrapper', port), hls(), new FileCounterStore(file, { block: 5 }));
        for (let i = 0; i < 3; i++) await within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, `GET ${i} in run ${run}`);
        // run 0 ends without release, as a crash would
        if (run === 1) await s.close();
        else await (s as unknown as { channel: ApduChannel }).channel.close();
      }
      const seen = m.clientCounters;
      assert.equal(seen.length, 10);
      assert.equal(new Set(seen).size, seen.length, `counters ${seen.join(',')} are all different`);
      assert.ok(seen.every((c, i) => i === 0 || c > seen[i - 1]), `counters ${seen.join(',')} rise`);
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { next: number; server: number };
      assert.ok(saved.next > seen[seen.length - 1], `the file reserves past the last counter used (${saved.next})`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a response whose server counter does not rise (a replay)', async () => {
    const { meter: m, port } = await meter({ framing: 'wrapper', keys });
    const s = await session(await channel('wrapper', port), hls(), new MemoryCounterStore());
    await s.get({ classId: 3, obis: ENERGY, attribute: 2 });
    m.faults.replay = true;
    await assert.rejects(within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'the replayed response'), (e: unknown) => e instanceof DlmsSecurityError && e.code === 'replay' && /GET 1-0:1\.8\.0\.255\/2.*replayed response is refused/.test(e.message));
    await s.close();
  });

  it('hands a pushed DataNotification that no request waits for to onUnsolicited', async () => {
    const { meter: m, port } = await meter({ framing: 'wrapper' });
    const ch = await channel('wrapper', port);
    const s = await session(ch, { mechanism: 'lowest' });
    const pushed = new Promise<Buffer>((resolve) => { ch.onUnsolicited = resolve; });
    const body: DlmsData = { type: 'structure', items: [{ type: 'double-long-unsigned', value: 4711 }] };
    m.push(encodeService({ type: 'data-notification', longInvokeId: 7, body }));
    const apdu = await within(pushed, 5000, 'the pushed DataNotification');
    assert.deepEqual(decodeApdu(apdu), { type: 'data-notification', longInvokeId: 7, dateTime: undefined, dateTimeOctets: undefined, body });
    assert.deepEqual(await within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'a GET after the push'), { type: 'double-long-unsigned', value: 1234567 });
    await s.close();
  });

  it('HDLC recovers a lost response frame and a garbled one by retransmitting', async () => {
    const { meter: m, port } = await meter({ framing: 'hdlc', maxInfo: 32 });
    const ch = (await channel('hdlc', port, { timeoutMs: 200 })) as HdlcChannel;
    const s = await session(ch, { mechanism: 'lowest' });
    m.faults.drop = 1;
    assert.deepEqual(await within(s.get({ classId: 1, obis: '0-0:96.1.0.255', attribute: 2 }), 5000, 'the GET after a lost frame'), longText);
    assert.equal(ch.stats.framesResent, 1);
    m.faults.garble = 2;
    assert.deepEqual(await within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'the GET after garbled frames'), { type: 'double-long-unsigned', value: 1234567 });
    assert.equal(ch.stats.framesDropped, 2);
    assert.equal(ch.stats.framesResent, 3);
    await s.close();
  });

  it('a silent meter fails the request naming what was awaited (wrapper and HDLC)', async () => {
    const w = await meter({ framing: 'wrapper' });
    const s = await session(await channel('wrapper', w.port, { timeoutMs: 300 }), { mechanism: 'lowest' });
    w.meter.faults.silent = true;
    await assert.rejects(within(s.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'the wrapper timeout'), (e: unknown) => e instanceof DlmsTimeoutError && /no response to GET 1-0:1\.8\.0\.255\/2 \(class 3\) within 300 ms/.test(e.message));
    await s.close();
    const h = await meter({ framing: 'hdlc' });
    const hs = await session(await channel('hdlc', h.port, { timeoutMs: 100, retries: 2 }), { mechanism: 'lowest' });
    h.meter.faults.silent = true;
    await assert.rejects(within(hs.get({ classId: 3, obis: ENERGY, attribute: 2 }), 5000, 'the HDLC timeout'), (e: unknown) => e instanceof DlmsTimeoutError && /no response to GET 1-0:1\.8\.0\.255\/2 \(class 3\) within 100 ms after 2 retransmissions/.test(e.message));
    await hs.close();
  });
});
