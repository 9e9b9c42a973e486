// The baud-paced serial line of the simulators, against an in-memory port: bytes leave at the line
// rate, a received frame counts from when its last byte would have arrived, and the Modbus RTU
// silence rules (t3.5 ends a frame, a gap over t1.5 breaks it). 300 baud keeps those silences far
// longer than a timer's jitter (t1.5 = 50 ms, t3.5 = 117 ms at 8N1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { charMs, lineBits, parseLine, PacedLine, rtuSilences, type LinePort, type WireSpan } from '../../lib/sim/serial';
import { within } from '../fixtures/within';

class MemoryPort implements LinePort {
  readonly written: { at: number; data: Buffer }[] = [];
  private cb: (d: Buffer) => void = () => undefined;
  write(data: Buffer): void { this.written.push({ at: performance.now(), data: Buffer.from(data) }); }
  onData(cb: (d: Buffer) => void): void { this.cb = cb; }
  inject(d: Buffer): void { this.cb(d); }
  async close(): Promise<void> { /* nothing held */ }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('serial line settings', () => {
  it('counts start, data, parity and stop bits and refuses unknown formats naming them', () => {
    assert.equal(lineBits(parseLine('8E1', 9600)), 11);
    assert.equal(lineBits(parseLine('8N1', 115200)), 10);
    assert.equal(lineBits(parseLine('7E1', 300)), 10);
    assert.ok(Math.abs(charMs(parseLine('8E1', 9600)) - 1.1458) < 0.001);
    assert.throws(() => parseLine('8X1', 9600), /"8X1"/);
    assert.throws(() => parseLine('8E1', 0), /baud rate 0/);
    assert.deepEqual(rtuSilences(parseLine('8E1', 38400)), { endMs: 1.75, breakMs: 0.75 });
  });
});

describe('PacedLine', () => {
  it('hands byte k to the port no earlier than start + (k + 1) character times, without drift', async () => {
    const port = new MemoryPort();
    const line = new PacedLine(port, parseLine('8N1', 19200));
    const data = Buffer.alloc(200, 0x55);
    const span = await within(line.send(data), 5000, 'a 200-byte frame at 19200 baud');
    const ct = charMs(line.line);
    let count = 0;
    for (const w of port.written) {
      count += w.data.length;
      assert.ok(w.at >= span.start + count * ct - 0.01, `byte ${count} left ${(span.start + count * ct - w.at).toFixed(2)} ms early`);
    }
    assert.equal(count, 200);
    const last = port.written[port.written.length - 1].at;
    assert.ok(last - span.end < 50, `the last byte left ${(last - span.end).toFixed(1)} ms after its time`);
    assert.ok(port.written.length > 10, `paced in chunks, not one write (${port.written.length} writes)`);
    assert.ok(Math.abs(line.busyMs(span.start - 100, span.end + 100) - 200 * ct) < 1e-6);
    await line.close();
  });

  it('delivers a frame once its last byte would have arrived, ended by t3.5 of silence', async () => {
    const port = new MemoryPort();
    const line = new PacedLine(port, parseLine('8N1', 300), { framing: 'silence' });
    const got = new Promise<{ frame: Buffer; span: WireSpan; at: number }>((r) => line.onFrame((frame, span) => r({ frame, span, at: performance.now() })));
    const t0 = performance.now();
    port.inject(Buffer.from([1, 3, 0, 0]));
    port.inject(Buffer.from([0, 2, 0xc4, 0x0b])); // at once: the bytes follow on the wire
    const { frame, span, at } = await within(got, 3000, 'the 8-byte frame');
    const ct = charMs(line.line);
    assert.deepEqual([...frame], [1, 3, 0, 0, 0, 2, 0xc4, 0x0b]);
    assert.ok(Math.abs(span.end - span.start - 8 * ct) < 1e-6);
    assert.ok(at - t0 >= 8 * ct + 3.5 * ct - 0.5, `handed over ${(at - t0).toFixed(1)} ms after the first byte, before 8 characters + t3.5`);
    await line.close();
  });

  it('discards a frame with a gap over t1.5 inside it and takes the next one after t3.5', async () => {
    const port = new MemoryPort();
    const line = new PacedLine(port, parseLine('8N1', 300), { framing: 'silence' });
    const frames: Buffer[] = [];
    line.onFrame((f) => frames.push(f));
    const ct = charMs(line.line); // 33.3 ms
    port.inject(Buffer.from([1, 3]));
    await sleep(2 * ct + 2.5 * ct); // the 2 bytes, then 2.5 characters of silence: the frame breaks
    port.inject(Buffer.from([0, 0]));
    await sleep(2 * ct + 6 * ct);
    port.inject(Buffer.from([7, 7, 7]));
    await sleep(3 * ct + 5 * ct);
    assert.equal(line.stats.brokenFrames, 1);
    assert.deepEqual(frames.map((f) => [...f]), [[7, 7, 7]]);
    assert.ok(line.rxGapsMs[1] >= 3.5 * ct, `the silence before the second frame, ${line.rxGapsMs[1].toFixed(1)} ms`);
    await line.close();
  });

  it('records both directions, so utilisation is the frames\' share of the time, and switches speed after what is queued', async () => {
    const port = new MemoryPort();
    const line = new PacedLine(port, parseLine('7E1', 1200));
    const t0 = performance.now();
    const first = line.send(Buffer.alloc(12, 0x30));
    const switched = line.setBaud(9600);
    const second = line.send(Buffer.alloc(96, 0x31));
    const [a, b] = await within(Promise.all([first, second, switched]), 5000, 'two frames around a speed change');
    assert.ok(Math.abs(a.end - a.start - 100) < 1e-6, '12 characters of 10 bits at 1200 baud = 100 ms');
    assert.ok(Math.abs(b.end - b.start - 100) < 1e-6, '96 characters at 9600 baud = 100 ms');
    assert.equal(line.line.baudRate, 9600);
    const t1 = b.end;
    const u = line.utilisation(t0, t1);
    assert.ok(Math.abs(u - 200 / (t1 - t0)) < 1e-9);
    await line.close();
  });
});
