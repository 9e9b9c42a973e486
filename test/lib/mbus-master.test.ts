import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MbusMaster, MbusError, TcpTransport, answerTimeoutMs, parseAddress, secondaryAddressText, type MbusTransport } from '../../lib/protocols/mbus';
import { frameTimeMs } from '../../lib/protocols/mbus/timing';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';

const sample = (name: string) => findTelegram(name)!;

describe('M-Bus master over TCP (against the simulator)', () => {
  let sim: MbusSimulator;
  let port: number;
  let master: MbusMaster;

  before(async () => {
    sim = new MbusSimulator({ slaves: [
      { primary: 1, sample: sample('slb-cf-integral') },
      { primary: 3, sample: sample('efe-waterstar') },
      { primary: 4, sample: sample('emu-professional'), split: true },
      { primary: 6, sample: sample('els-f96-plus'), fault: 'silent' },
      { primary: 7, sample: sample('els-f96-plus'), id: '70000007', fault: 'checksum' },
    ] });
    port = await sim.listen(0);
    master = new MbusMaster(new TcpTransport({ kind: 'tcp', host: '127.0.0.1', port }), { timeout: 150, retries: 1, deadBackoff: { base: 2000, max: 2000 } });
  });
  after(async () => {
    await master?.close();
    await sim?.close();
  });

  it('derives the EN 13757-2 answer timeout from the baud rate (330 bit times + 50 ms)', () => {
    assert.equal(answerTimeoutMs(2400), 188); // 137.5 + 50, rounded up
    assert.equal(answerTimeoutMs(300), 1150);
    assert.equal(answerTimeoutMs(9600), 85);
    assert.throws(() => answerTimeoutMs(0), /baud rate 0/);
  });

  it('parses primary and secondary addresses, naming a bad one', () => {
    assert.deepEqual(parseAddress('5'), { primary: 5 });
    assert.deepEqual(parseAddress('04990254'), { secondary: { id: '04990254', manufacturer: null, version: null, medium: null } });
    assert.deepEqual(parseAddress('1181731482 4D0604'.replace(' ', '')), { secondary: { id: '11817314', manufacturer: 'SLB', version: 6, medium: 4 } });
    assert.throws(() => parseAddress('251', 'connection_address'), /connection_address "251" must be a primary address 0..250/);
  });

  it('reads a heat meter by primary address: the captured header', async () => {
    const r = await master.read({ primary: 1 });
    assert.equal(r.frames.length, 1);
    const h = r.telegram.header!;
    assert.equal(h.id, '11817314');
    assert.equal(h.manufacturer, 'SLB');
    assert.equal(h.version, 6);
    assert.equal(h.medium, 4);
    assert.equal(r.secondary, '11817314824D0604');
    assert.equal(secondaryAddressText(h), r.secondary);
  });

  it('toggles the FCB: every read is a fresh telegram (access number + 1)', async () => {
    const a = await master.read({ primary: 3 });
    const b = await master.read({ primary: 3 });
    assert.equal(b.telegram.header!.accessNumber, (a.telegram.header!.accessNumber + 1) & 0xff);
  });

  it('reads both telegrams of a multi-telegram readout ("more records follow")', async () => {
    const r = await master.read({ primary: 4 });
    assert.equal(r.frames.length, 2);
    assert.equal(r.telegrams[0].moreRecordsFollow, true);
    assert.equal(r.telegram.moreRecordsFollow, false);
    assert.equal(r.telegram.records.length, r.telegrams[0].records.length + r.telegrams[1].records.length);
    assert.equal(r.telegram.header!.manufacturer, 'EMU');
  });

  it('reads a meter by secondary address (select, then REQ_UD2 to 0xFD)', async () => {
    const r = await master.read(parseAddress('04990254'));
    assert.equal(r.address, 0xfd);
    assert.equal(r.telegram.header!.manufacturer, 'EFE');
    assert.equal(r.telegram.header!.medium, 6);
  });

  it('gives a timeout naming the address after every attempt, then backs the dead meter off', async () => {
    const t0 = Date.now();
    await assert.rejects(master.read({ primary: 6 }), (e: Error) => e instanceof MbusError && e.code === 'timeout' && /no answer from primary address 6 within 150 ms \(2 attempt\(s\)\)/.test(e.message));
    const took = Date.now() - t0;
    assert.ok(took >= 300 && took < 2000, `took ${took} ms`);
    await assert.rejects(master.read({ primary: 6 }), /primary address 6 did not answer 1 time\(s\); skipped/);
    const ok = await master.read({ primary: 1 });
    assert.equal(ok.telegram.header!.id, '11817314', 'the others are still read');
  });

  it('reports a corrupted answer with the checksum fault', async () => {
    await assert.rejects(master.read({ primary: 7 }), (e: Error) => e instanceof MbusError && e.code === 'collision' && /checksum 0x.., expected 0x../.test(e.message));
  });

  it('runs concurrent requests one at a time', async () => {
    const results = await Promise.all([1, 3, 1, 3].map((a) => master.read({ primary: a })));
    assert.deepEqual(results.map((r) => r.telegram.header!.id), ['11817314', '04990254', '11817314', '04990254']);
    assert.equal(sim.stats.badFrames, 0, 'no request overlapped another on the bus');
  });
});

describe('M-Bus master: the answer timer runs from the request\'s last character', () => {
  /** A serial line at 300 baud as serialport presents it: write() returns at once, the bytes leave at the line rate. */
  class SlowLine extends EventEmitter implements MbusTransport {
    readonly endpoint = { kind: 'serial' as const, path: '/dev/ttyFAKE', baudRate: 300 };
    isOpen = false;
    constructor(private readonly answerAfterLastCharMs: number, private readonly telegram: Buffer) { super(); }
    async open(): Promise<void> { this.isOpen = true; }
    async flush(): Promise<void> { /* nothing buffered */ }
    async close(): Promise<void> { this.isOpen = false; }
    async write(bytes: Buffer): Promise<void> {
      const onWire = frameTimeMs(bytes.length, 300);
      const reset = bytes[0] === 0x10 && (bytes[1] & 0x4f) === 0x40; // SND_NKE: acknowledged at once; REQ_UD2: the telegram, slowly
      setTimeout(() => this.emit('data', reset ? Buffer.from([0xe5]) : this.telegram), onWire + (reset ? 50 : this.answerAfterLastCharMs));
    }
  }

  it('a meter that answers within the 1150 ms EN 13757-2 allows at 300 baud is read (the 5-byte request itself takes 184 ms)', async () => {
    const telegram = Buffer.from(sample('efe-waterstar').hex.replace(/\s+/g, ''), 'hex');
    const master = new MbusMaster(new SlowLine(1100, telegram), { retries: 0, baudRate: 300 });
    try {
      const r = await master.read({ primary: 3 });
      assert.equal(r.telegram.header!.manufacturer, 'EFE');
    } finally {
      await master.close();
    }
    const late = new MbusMaster(new SlowLine(1400, telegram), { retries: 0, baudRate: 300 });
    try {
      await assert.rejects(late.read({ primary: 3 }), /no answer from primary address 3 within 1150 ms/, 'later than the standard allows is a timeout');
    } finally {
      await late.close();
    }
  });
});
