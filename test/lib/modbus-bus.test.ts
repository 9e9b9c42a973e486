import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModbusBus } from '../../lib/protocols/modbus/bus';
import { ModbusError } from '../../lib/protocols/modbus/errors';
import { bitsPerChar, interFrameGapMs, readAnswerBytes, readTimeoutMs } from '../../lib/protocols/modbus/serial-timing';
import type { RegisterIO } from '../../lib/protocols/modbus/io';
import type { RegisterTable } from '../../lib/protocols/modbus/types';

type Behaviour = 'ok' | 'timeout' | 'exception';

/** A link whose units answer, time out or refuse as told; it records the order of requests. */
class FakeIO implements RegisterIO {
  isOpen = false;
  opens = 0;
  failOpen = false;
  log: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  units = new Map<number, Behaviour>();
  async open() {
    this.opens++;
    if (this.failOpen) throw new ModbusError('connection', 'cannot open fake: ECONNREFUSED');
    this.isOpen = true;
  }
  async read(unit: number, _t: RegisterTable, start: number, count: number, timeoutMs: number): Promise<Buffer> {
    this.log.push(`${unit}:${start}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 2));
    this.inFlight--;
    const b = this.units.get(unit) ?? 'ok';
    if (b === 'timeout') throw new ModbusError('timeout', `no answer within ${timeoutMs} ms`);
    if (b === 'exception') throw new ModbusError('exception', 'exception 2 (illegal data address)', 2);
    return Buffer.alloc(count * 2, unit);
  }
  async close() { this.isOpen = false; }
}

describe('Modbus bus queue', () => {
  it('runs requests one at a time in arrival order', async () => {
    const io = new FakeIO();
    const bus = new ModbusBus(io);
    const results = await Promise.all([1, 2, 3, 1].map((u, i) => bus.read(u, 'holding', i, 2)));
    assert.deepEqual(io.log, ['1:0', '2:1', '3:2', '1:3']);
    assert.equal(io.maxInFlight, 1);
    assert.deepEqual(results[1], Buffer.alloc(4, 2));
    assert.equal(io.opens, 1);
  });

  it('retries a timeout, then backs the unit off so the others are not stalled', async () => {
    const io = new FakeIO();
    io.units.set(2, 'timeout');
    let t = 0;
    const bus = new ModbusBus(io, { retries: 2, unitBackoff: { base: 5000, max: 60000 } }, () => t);
    await assert.rejects(bus.read(2, 'holding', 0, 1), (e: ModbusError) => e.code === 'timeout');
    assert.deepEqual(io.log, ['2:0', '2:0', '2:0'], 'one try and two retries');
    io.log = [];
    // While backed off, unit 2 fails at once without touching the bus; unit 1 is served.
    const [dead, alive] = await Promise.allSettled([bus.read(2, 'holding', 0, 1), bus.read(1, 'holding', 0, 1)]);
    assert.equal(dead.status, 'rejected');
    assert.match((dead as PromiseRejectedResult).reason.message, /unit 2 skipped for 5 s after 1 failed poll\(s\): no answer within 1000 ms/);
    assert.equal(alive.status, 'fulfilled');
    assert.deepEqual(io.log, ['1:0']);
    assert.deepEqual(bus.backedOffUnits(), [2]);
    // The backoff doubles after the next failure and clears after an answer.
    t = 5001;
    await assert.rejects(bus.read(2, 'holding', 0, 1));
    t = 5002;
    await assert.rejects(bus.read(2, 'holding', 0, 1), /skipped for 10 s after 2 failed/);
    io.units.set(2, 'ok');
    t = 20000;
    await bus.read(2, 'holding', 0, 1);
    assert.deepEqual(bus.backedOffUnits(), []);
  });

  it('blames the link, not the unit, when the connection dies under a request', async () => {
    const io = new FakeIO();
    const bus = new ModbusBus(io, { retries: 2 });
    await bus.read(4, 'holding', 0, 1);
    io.units.set(4, 'timeout');
    const read = io.read.bind(io);
    io.read = async (...args) => { io.isOpen = false; return read(...args); };
    await assert.rejects(bus.read(4, 'holding', 0, 1), (e: ModbusError) => e.code === 'connection' && /link lost while waiting for unit 4/.test(e.message));
    assert.deepEqual(bus.backedOffUnits(), [], 'the unit is not backed off');
    assert.equal(bus.state, 'disconnected');
    io.units.set(4, 'ok');
    io.read = read;
    await bus.read(4, 'holding', 0, 1);
    assert.equal(io.opens, 2, 'the next request reconnects');
  });

  it('does not retry or back off an exception answer: the unit is alive', async () => {
    const io = new FakeIO();
    io.units.set(3, 'exception');
    const bus = new ModbusBus(io, { retries: 3 });
    await assert.rejects(bus.read(3, 'input', 9, 1), (e: ModbusError) => e.code === 'exception' && e.exceptionCode === 2);
    assert.equal(io.log.length, 1);
    assert.deepEqual(bus.backedOffUnits(), []);
  });

  it('refuses a request beyond the queue bound at once', async () => {
    const bus = new ModbusBus(new FakeIO(), { queueLimit: 2 });
    const depths: number[] = [];
    bus.on('queue', (d: number) => depths.push(d));
    const reads = [bus.read(1, 'holding', 0, 1), bus.read(1, 'holding', 1, 1), bus.read(1, 'holding', 2, 1)];
    const last = bus.read(1, 'holding', 3, 1);
    await assert.rejects(last, /request queue full \(2 waiting\)/);
    await Promise.all(reads);
    assert.ok(Math.max(...depths) >= 3, 'queue depth is reported');
    assert.equal(bus.depth, 0);
  });

  it('reconnects on demand with backoff after a failed connect', async () => {
    const io = new FakeIO();
    io.failOpen = true;
    let t = 0;
    const bus = new ModbusBus(io, { reconnect: { base: 1000, max: 30000 } }, () => t);
    const states: string[] = [];
    bus.on('state', (s: string) => states.push(s));
    await assert.rejects(bus.read(1, 'holding', 0, 1), /ECONNREFUSED/);
    await assert.rejects(bus.read(1, 'holding', 0, 1), /not connected, next attempt in 1 s/);
    assert.equal(io.opens, 1, 'no new attempt inside the backoff');
    io.failOpen = false;
    t = 1000;
    await bus.read(1, 'holding', 0, 1);
    assert.equal(io.opens, 2);
    assert.deepEqual(states, ['connecting', 'disconnected', 'connecting', 'connected']);
  });

  it('fails queued requests on close and refuses new ones', async () => {
    const bus = new ModbusBus(new FakeIO());
    const first = bus.read(1, 'holding', 0, 1);
    const queued = bus.read(1, 'holding', 1, 1);
    await bus.close();
    await assert.rejects(queued, /connection closed/);
    await first.catch(() => undefined);
    await assert.rejects(bus.read(1, 'holding', 0, 1), /connection closed/);
  });
});

describe('Modbus RTU serial timing from the line settings', () => {
  it('t3.5 and read timeouts follow the standard: 3.5 characters (1.75 ms above 19200 baud), turnaround + request + answer on the wire', () => {
    assert.equal(bitsPerChar({ dataBits: 8, parity: 'none', stopBits: 1 }), 10);
    assert.equal(bitsPerChar({ dataBits: 8, parity: 'even', stopBits: 1 }), 11);
    assert.equal(interFrameGapMs(9600, 10).toFixed(2), '3.65', '8N1 at 9600 baud');
    assert.equal(interFrameGapMs(9600, 11).toFixed(2), '4.01', '8E1 at 9600 baud');
    assert.equal(interFrameGapMs(38400, 11), 1.75);
    assert.equal(readAnswerBytes(2), 9);
    // 80 registers at 1200 baud 8E1: (8 + 165) x 11 bits = 1585.8 ms on the wire, + t3.5 32.1 ms, + 1000 ms turnaround.
    assert.equal(readTimeoutMs(80, 1200, 1000, 11), 2618);
    assert.throws(() => interFrameGapMs(0), /baud rate 0 must be a positive number/);
  });

  it('a serial bus keeps t3.5 of silence between exchanges and gives each read a timeout for its length', async () => {
    const io = new FakeIO();
    const timeouts: number[] = [];
    const spans: [number, number][] = [];
    const read = io.read.bind(io);
    io.read = async (unit, table, start, count, timeoutMs) => {
      const t0 = performance.now();
      timeouts.push(timeoutMs);
      try { return await read(unit, table, start, count, timeoutMs); } finally { spans.push([t0, performance.now()]); }
    };
    const bus = new ModbusBus(io, { baudRate: 1200, bitsPerChar: 11, timeout: 500, interFrameGap: 0 });
    assert.equal(bus.options.interFrameGap.toFixed(1), '32.1', 'a configured 0 cannot undercut t3.5 at 1200 baud');
    await Promise.all([bus.read(1, 'holding', 0, 2), bus.read(1, 'holding', 0, 80), bus.read(2, 'input', 0, 10)]);
    assert.deepEqual(timeouts, [readTimeoutMs(2, 1200, 500, 11), readTimeoutMs(80, 1200, 500, 11), readTimeoutMs(10, 1200, 500, 11)]);
    for (let i = 1; i < spans.length; i++) {
      const quiet = spans[i][0] - spans[i - 1][1];
      assert.ok(quiet >= 32, `silence before request ${i + 1}: ${quiet.toFixed(1)} ms`);
    }
    const tcp = new ModbusBus(new FakeIO(), { timeout: 700 });
    assert.deepEqual([tcp.options.interFrameGap, tcp.options.baudRate], [0, 0], 'TCP: no gap, fixed timeout');
  });
});
