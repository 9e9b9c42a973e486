// ReadingStore.remove: readings deleted by exact key (meter, obis, time), nothing else; the InfluxQL and the 2.x delete bodies it sends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../lib/store/sqlite';
import { DELETE_BATCH, deletePredicate, deleteQueries } from '../../lib/store/influxdb/influxql';
import type { Reading } from '../../lib/model/reading';

describe('ReadingStore.remove', () => {
  it('sqlite: deletes exactly the keys given (OBIS in any notation), leaves neighbours, skips absent keys', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const r = (meter: string, obis: string, time: number, value: number): Reading => ({ meter, obis, time, value, unit: 'kWh' });
    await store.write([r('a', '1-0:1.8.0', 1000, 1), r('a', '1-0:1.8.0', 2000, 2), r('a', '1-0:2.8.0', 1000, 3), r('b', '1-0:1.8.0', 1000, 4)]);
    assert.equal(await store.remove([{ meter: 'a', obis: '1.8.0', time: 1000 }, { meter: 'a', obis: '1-0:1.8.0', time: 5000 }]), 2);
    const left = async (meter: string) => (await store.query({ meter, from: 0, to: 10_000 }) as Reading[]).map((x) => [x.obis, x.time, x.value]);
    assert.deepEqual(await left('a'), [['1-0:2.8.0', 1000, 3], ['1-0:1.8.0', 2000, 2]]);
    assert.deepEqual(await left('b'), [['1-0:1.8.0', 1000, 4]]);
    await assert.rejects(store.remove([{ meter: 'a', obis: '1-0:1.8.0', time: NaN }]), /sqlite store :memory:: remove: keys\[0\]/);
    await store.close();
  });

  it('InfluxDB 1.x: one DELETE per key with quoted tags and an exact time, DELETE_BATCH per request', () => {
    const keys = Array.from({ length: DELETE_BATCH + 1 }, (_, i) => ({ meter: i === 0 ? "it's" : 'm', obis: '1.8.0', time: 1_700_000_000_000 + i }));
    const qs = deleteQueries(keys);
    assert.equal(qs.length, 2);
    assert.equal(qs[0].split('; ')[0], `DELETE FROM "ems_reading" WHERE "meter" = 'it\\'s' AND "obis" = '1-0:1.8.0' AND time = 1700000000000ms`);
    assert.equal(qs[1], `DELETE FROM "ems_reading" WHERE "meter" = 'm' AND "obis" = '1-0:1.8.0' AND time = ${1_700_000_000_000 + DELETE_BATCH}ms`);
  });

  it('InfluxDB 2.x: a delete body for the one instant, refusing a tag value the predicate cannot quote', () => {
    assert.deepEqual(deletePredicate({ meter: 'm1', obis: '1.8.0', time: Date.UTC(2026, 0, 1) }), {
      start: '2026-01-01T00:00:00.000Z', stop: '2026-01-01T00:00:00.000Z', predicate: '_measurement="ems_reading" AND meter="m1" AND obis="1-0:1.8.0"',
    });
    assert.throws(() => deletePredicate({ meter: 'a"b', obis: '1.8.0', time: 0 }), /meter "a\\"b" cannot be named in a delete predicate/);
  });
});
