import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeValue } from '../../lib/protocols/modbus/datatypes';
import { decodeRecord, logLayout, readLogBackfill, readLogSpan, recordReadings, type LogReader } from '../../lib/protocols/modbus/log';
import { loadProfile, validateProfile } from '../../lib/protocols/modbus/profile';
import type { Profile, ProfileLog, RegisterTable } from '../../lib/protocols/modbus/types';
import { Quality } from '../../lib/model';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0) / 1000;

/** A small logging meter: 5 records of time + status + 2 x uint32 Wh (word-swapped, as some meters do). */
function profile(log: Partial<ProfileLog> = {}, maxBlock = 16): Profile {
  return validateProfile({
    id: 'tiny-logger', manufacturer: 'Test', model: 'T', source: 'test',
    defaults: { type: 'uint32', wordOrder: 'little', byteOrder: 'big', table: 'holding' },
    maxBlock,
    values: [{ obis: '1-0:1.8.0', name: 'import', register: 0, unit: 'Wh' }],
    log: {
      name: 'profile', countRegister: 10, firstRecord: 20, capacity: 5, intervalSeconds: 900, status: { 1: 'ESTIMATED', 4: 'CLOCK_ADJUSTED' },
      values: [{ obis: '1-0:1.8.0', name: 'import', unit: 'Wh' }, { obis: '1-0:2.8.0', name: 'export', unit: 'Wh', scale: 10 }],
      ...log,
    },
  }, 'tiny-logger');
}

/** Register memory with `written` records (1..written) in the ring, and a count of requests. */
function meter(p: Profile, written: number, status = (_seq: number) => 0) {
  const layout = logLayout(p);
  const regs = new Map<number, number>();
  const put = (addr: number, buf: Buffer) => { for (let i = 0; i < buf.length / 2; i++) regs.set(addr + i, buf.readUInt16BE(i * 2)); };
  put(p.log!.countRegister, encodeValue(written, layout.timeEnc));
  for (let seq = 1; seq <= written; seq++) {
    const at = p.log!.firstRecord + ((seq - 1) % p.log!.capacity) * layout.recordSize;
    put(at, encodeValue(T0 + seq * 900, layout.timeEnc));
    put(at + 2, encodeValue(status(seq), layout.statusEnc));
    put(at + 3, encodeValue(100_000 + seq * 250, layout.values[0].enc));
    put(at + 5, encodeValue(7 + seq, layout.values[1].enc));
  }
  const calls: [number, number][] = [];
  const bus: LogReader = {
    async read(_unit: number, table: RegisterTable, start: number, count: number) {
      assert.equal(table, 'holding');
      assert.ok(count <= p.maxBlock, `read of ${count} registers within maxBlock ${p.maxBlock}`);
      calls.push([start, count]);
      const out = Buffer.alloc(count * 2);
      for (let i = 0; i < count; i++) out.writeUInt16BE(regs.get(start + i) ?? 0xffff, i * 2);
      return out;
    },
  };
  return { bus, calls, put, layout };
}

describe('Modbus register log', () => {
  test('a record decodes to its own time, the status as quality flags and scaled values in canonical units', () => {
    const p = profile();
    const layout = logLayout(p);
    assert.equal(layout.recordSize, 7);
    // Hand-written record: time 0x6959_C3C8 word-swapped, status 5, 123456 Wh, 42 x 10 Wh.
    const data = Buffer.from([0xc3, 0xc8, 0x69, 0x59, 0x00, 0x05, 0xe2, 0x40, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x00]);
    const rec = decodeRecord(layout, data, 0, 9);
    assert.equal(rec.time, 0x6959c3c8 * 1000);
    assert.equal(rec.status, 5);
    const readings = recordReadings(p.log!, layout, rec, 'm');
    assert.deepEqual(readings, [
      { meter: 'm', time: 0x6959c3c8 * 1000, obis: '1-0:1.8.0', value: 123.456, unit: 'kWh', quality: Quality.ESTIMATED | Quality.CLOCK_ADJUSTED },
      { meter: 'm', time: 0x6959c3c8 * 1000, obis: '1-0:2.8.0', value: 0.42, unit: 'kWh', quality: Quality.ESTIMATED | Quality.CLOCK_ADJUSTED },
    ]);
  });

  test('a span across the end of the ring: only the records inside, oldest first, no read across the wrap', async () => {
    const p = profile();
    const { bus, calls } = meter(p, 8); // records 4..8 kept; 6, 7, 8 sit in slots 0, 1, 2
    const r = await readLogSpan(bus, 1, p, (T0 + 4 * 900) * 1000, (T0 + 7 * 900) * 1000);
    assert.deepEqual(r.records.map((x) => x.seq), [5, 6, 7]);
    assert.deepEqual(r.records.map((x) => x.time), [5, 6, 7].map((s) => (T0 + s * 900) * 1000));
    assert.equal(r.truncated, false);
    for (const [start, count] of calls) {
      const last = start + count - 1;
      assert.ok(!(start < 20 + 5 * 7 && last >= 20 + 5 * 7), `read ${start}+${count} stays inside the ring`);
    }
  });

  test('a slot the meter overwrote during the read (a newer time than the record after it) is dropped', async () => {
    const p = profile();
    const { bus, put, layout } = meter(p, 5);
    put(p.log!.firstRecord + 1 * layout.recordSize, encodeValue(T0 + 6 * 900, layout.timeEnc)); // seq 2's slot now holds a newer record (seq 6's time)
    const r = await readLogSpan(bus, 1, p, 0, (T0 + 10 * 900) * 1000);
    assert.deepEqual(r.records.map((x) => x.seq), [1, 3, 4, 5]);
  });

  test('records already overwritten are not asked for; a span before the oldest gives what is kept', async () => {
    const p = profile();
    const { bus } = meter(p, 12);
    const r = await readLogSpan(bus, 1, p, 0, (T0 + 100 * 900) * 1000);
    assert.deepEqual(r.records.map((x) => x.seq), [8, 9, 10, 11, 12]);
    const none = await readLogSpan(bus, 1, p, (T0 + 12 * 900) * 1000, (T0 + 20 * 900) * 1000);
    assert.deepEqual(none.records, []);
  });

  test('an empty log answers with no records after one request', async () => {
    const p = profile();
    const { bus, calls } = meter(p, 0);
    const r = await readLogSpan(bus, 1, p, 0, Date.now());
    assert.deepEqual(r.records, []);
    assert.equal(calls.length, 1);
  });

  test('beyond the cap the newest records are kept and it says truncated', async () => {
    const p = profile({ capacity: 40 });
    const { bus } = meter(p, 30);
    const b = await readLogBackfill(bus, 1, p, 'm', { from: 0, to: (T0 + 30 * 900) * 1000 }, 10);
    assert.equal(b.readings.length, 10);
    assert.equal(b.truncated, true);
    assert.deepEqual([...new Set(b.readings.map((x) => x.time))], [26, 27, 28, 29, 30].map((s) => (T0 + s * 900) * 1000));
    assert.ok(b.readings.every((x) => (x.quality! & Quality.BACKFILLED) !== 0));
  });

  test('a profile without a log is unsupported, with the reason, and reads nothing', async () => {
    const p = loadProfile('eastron-sdm630');
    const b = await readLogBackfill({ read: () => assert.fail('no request expected') }, 1, p, 'm', { from: 0, to: 1 });
    assert.deepEqual(b.readings, []);
    assert.match(b.unsupported!, /eastron-sdm630/);
  });

  test('the built-in ems-logging-meter declares a valid log', () => {
    const p = loadProfile('ems-logging-meter');
    assert.equal(p.log!.intervalSeconds, 900);
    assert.equal(logLayout(p).recordSize, 11);
  });

  test('bad logs are refused naming the field and the value', () => {
    assert.throws(() => profile({ capacity: 0 }), /profile "tiny-logger": log\.capacity is 0, expected an integer 1\.\.65535/);
    assert.throws(() => profile({ status: { 3: 'ESTIMATED' } } as never), /log\.status\["3"\] is "3", expected a single bit value/);
    assert.throws(() => profile({ status: { 1: 'GOOD' } } as never), /log\.status\["1"\] is "GOOD"/);
    assert.throws(() => profile({ values: [{ obis: '1-0:1.8.0', name: 'x', unit: 'kWhh' }] }), /log\.values\[0\]\.unit is "kWhh"/);
    assert.throws(() => profile({ countRegister: 22 }), /log\.countRegister is 22, expected a register outside the record ring 20\.\.54/);
    assert.throws(() => profile({ firstRecord: 1, countRegister: 50 }), /log\.firstRecord is 1, expected a log clear of value "import" at holding register 0/);
    assert.throws(() => profile({}, 6), /log\.values is "7 registers per record", expected a record within maxBlock 6/);
    assert.throws(() => profile({ firstRecord: 65000, capacity: 100 }), /log\.capacity is 100, expected a ring ending below register 65536/);
  });
});
