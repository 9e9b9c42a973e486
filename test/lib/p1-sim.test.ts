import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { P1Reader, decodeP1Frame, type DecodedP1 } from '../../lib/protocols/p1';
import { P1Simulator, SimP1Meter } from '../../lib/sim/p1';
import { findSimulator, UsageError } from '../../lib/sim';

/** Reads `n` frames from the simulator through a P1Reader (the node's path) and decodes them. */
async function read(sim: P1Simulator, port: number, n: number, o: { key?: string } = {}): Promise<(DecodedP1 | Error)[]> {
  const reader = new P1Reader({ host: '127.0.0.1', port, encrypted: Boolean(o.key), backoffMs: 50 });
  const out: (DecodedP1 | Error)[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${out.length} of ${n} telegrams`)), 10_000);
      reader.on('error', () => undefined);
      reader.on('frame', (f: Buffer) => {
        try { out.push(decodeP1Frame(f, { meter: 'sim', key: o.key })); } catch (e) { out.push(e as Error); }
        if (out.length >= n) { clearTimeout(timer); resolve(); }
      });
      reader.start();
    });
  } finally {
    await reader.close();
  }
  return out;
}

const value = (d: DecodedP1 | Error, obis: string) => {
  assert.ok(!(d instanceof Error), String(d));
  return (d as DecodedP1).readings.find((r) => r.obis === obis)?.value;
};

describe('ems-sim p1', () => {
  it('DSMR 5.0 over TCP: valid CRCs, rising registers and a gas channel', async () => {
    const sim = new P1Simulator({ version: '5', intervalMs: 100, speed: 3600 });
    const port = await sim.listen(0);
    try {
      const got = await read(sim, port, 3);
      for (const d of got) {
        assert.ok(!(d instanceof Error), String(d));
        const t = (d as DecodedP1).telegram;
        assert.deepEqual([t.version, t.crc?.ok, t.equipmentId, t.channels[0].medium], ['5.0', true, 'E0012345678901234', 'gas']);
        assert.ok(Math.abs(Date.parse(t.time!) - Date.now()) < 5000, 'meter clock is now');
      }
      const energy = (d: DecodedP1 | Error) => ['1-0:1.8.1', '1-0:1.8.2', '1-0:2.8.1', '1-0:2.8.2'].reduce((s, o) => s + value(d, o)!, 0);
      assert.ok(energy(got[2]) > energy(got[0]), 'import or export energy rises');
      assert.ok(value(got[2], '7-1:3.0.0')! > 1500, 'gas');
      assert.ok(value(got[0], '1-0:32.7.0')! > 200, 'voltage');
    } finally {
      await sim.close();
    }
  });

  it('DSMR 4.2 and 2.2 telegrams decode; 2.2 has no CRC and the 24.3.0 gas format', () => {
    const now = Date.UTC(2026, 6, 1, 10, 0, 0);
    const d4 = decodeP1Frame(new SimP1Meter({ version: '4' }).telegram(now), { meter: 's' });
    assert.deepEqual([d4.telegram.version, d4.telegram.crc?.ok, d4.telegram.time], ['4.2', true, '2026-07-01T10:00:00.000Z']);
    assert.equal(d4.readings.find((r) => r.obis === '7-1:3.0.0')?.time, now, 'hourly gas stamp');
    const d2 = decodeP1Frame(new SimP1Meter({ version: '2.2' }).telegram(now), { meter: 's', now: 1 });
    assert.deepEqual([d2.telegram.version, d2.telegram.crc], ['2.2/3.0', undefined]);
    assert.equal(d2.readings.find((r) => r.obis === '7-1:3.0.0')?.time, now);
    assert.equal(d2.readings.find((r) => r.obis === '1-0:1.8.1')?.time, 1);
  });

  it('--fault crc corrupts every CRC; --key encrypts as a Smarty meter', async () => {
    const sim = new P1Simulator({ version: '5', intervalMs: 100, fault: 'crc' });
    const port = await sim.listen(0);
    try {
      const got = await read(sim, port, 2);
      for (const e of got) assert.match(String(e), /P1CrcError: CRC error: expected [0-9A-F]{4} .* got [0-9A-F]{4}/);
    } finally {
      await sim.close();
    }
    const key = '000102030405060708090A0B0C0D0E0F';
    const enc = new P1Simulator({ version: '5', intervalMs: 100, key });
    const encPort = await enc.listen(0);
    try {
      const [d] = await read(enc, encPort, 1, { key });
      assert.ok(!(d instanceof Error), String(d));
      assert.equal((d as DecodedP1).telegram.systemTitle, 'SIMP1MTR');
      assert.ok(value(d, '1-0:1.8.1')! > 1000);
    } finally {
      await enc.close();
    }
  });

  it('the reader reconnects after the bridge restarts', async () => {
    const first = new P1Simulator({ version: '5', intervalMs: 100 });
    const port = await first.listen(0);
    const reader = new P1Reader({ host: '127.0.0.1', port, backoffMs: 50, maxBackoffMs: 200 });
    const errors: string[] = [];
    let frames = 0;
    reader.on('error', (e: Error) => errors.push(e.message));
    reader.on('frame', () => { frames++; });
    reader.start();
    const until = async (cond: () => boolean, what: string) => {
      const end = Date.now() + 10_000;
      while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 20)); }
    };
    let second: P1Simulator | undefined;
    try {
      await until(() => frames > 0, 'a first telegram');
      await first.close();
      await until(() => errors.length > 0, 'the disconnect');
      assert.match(errors[0], /closed by the bridge|ECONNRESET/);
      const before = frames;
      second = new P1Simulator({ version: '5', intervalMs: 100 });
      await second.listen(port);
      await until(() => frames > before, 'a telegram after reconnecting');
    } finally {
      await reader.close();
      await second?.close();
    }
  });

  it('the CLI checks its options', () => {
    const cli = findSimulator('p1')!;
    const o = cli.parse({ version: '4', port: '0' });
    assert.deepEqual([o.version, o.intervalMs, o.timeZone], ['4', 10_000, 'Europe/Amsterdam']);
    assert.equal(cli.parse({}).intervalMs, 1000);
    assert.equal(cli.parse({ interval: '0.5' }).intervalMs, 500);
    assert.throws(() => cli.parse({ version: '3' }), (e: Error) => e instanceof UsageError && /--version/.test(e.message));
    assert.throws(() => cli.parse({ fault: 'crc', version: '2.2' }), /no CRC/);
    assert.throws(() => cli.parse({ key: '1234' }), /--key: must be 32 hex digits/);
    assert.throws(() => cli.parse({ interval: '0' }), /--interval/);
  });
});
