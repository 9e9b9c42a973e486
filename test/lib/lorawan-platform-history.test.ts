import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import { LorawanPlatformClient, historyReadings, readHistory } from '../../lib/clients/lorawan-platform';

const HOUR = 3_600_000;
const EUI = '8cf9572000010103';

describe('LoRaWAN platform history (getMeterReadings paging)', () => {
  const start = Date.UTC(2026, 5, 1, 0, 3);
  let now = start;
  let sim: LorawanPlatformSimulator;
  let client: LorawanPlatformClient;
  before(async () => {
    sim = new LorawanPlatformSimulator({ now: () => now, uplinkMs: 10 * 60_000, tokenTtlMs: 30 * 86_400_000 });
    const port = await sim.listen(0);
    client = new LorawanPlatformClient({ url: `http://127.0.0.1:${port}/internal/commonInternal.jsp`, username: 'karly', password: '123456' });
    now += 12 * HOUR; // 72 uplinks per meter
    sim.platform.advance();
  });
  after(() => sim.close());

  const mine = (r: Record<string, unknown>) => r.deveui === EUI;
  const pages = () => sim.requests.filter((r) => r.method === 'getMeterReadings');

  it('reads every window page by page until a short page, keeping only the meter\'s rows in (from, to]', async () => {
    const before = pages().length;
    const from = start + 2 * HOUR, to = start + 5 * HOUR; // 18 uplinks of this meter, with others' around them
    const h = await readHistory(client, { areaId: 3, searchContent: '8cf95720000101', from, to, matches: mine, pageSize: 5, windowMs: HOUR });
    const a = sim.platform.byEui(EUI)!;
    const expected = sim.platform.records.filter((r) => r.archive === a.id && r.time > from && r.time <= to).map((r) => r.time).sort((x, y) => y - x);
    assert.equal(expected.length, 18);
    assert.deepEqual(h.rows.map((r) => Date.parse(String(r.meterReadingtime).replace(' ', 'T') + 'Z')), expected, 'newest first, each uplink once');
    assert.equal(h.truncated, false);
    const sent = pages().slice(before);
    assert.equal(sent.length, h.requests);
    // Area 3 holds two meters: 14 rows per one-hour window (the platform includes both ends), pages of 5 -> 3 pages a window.
    assert.equal(sent.length, 3 * 3);
    assert.ok(sent.every((r) => Number(r.params.pageSize) === 5 && Number(r.params.pageNumber) >= 1));
    assert.deepEqual([...new Set(sent.map((r) => r.params.endDate))], ['2026-06-01 05:03:00', '2026-06-01 04:03:00', '2026-06-01 03:03:00'], 'windows newest first');
  });

  it('stops at maxRows with the newest rows and says truncated', async () => {
    const h = await readHistory(client, { areaId: 3, searchContent: EUI, from: start, to: now, matches: mine, maxRows: 10, windowMs: 2 * HOUR });
    assert.equal(h.rows.length, 10);
    assert.equal(h.truncated, true);
    assert.equal(h.requests, 1, 'the newest window alone held enough');
    const a = sim.platform.byEui(EUI)!;
    assert.equal(String(h.rows[0].meterReadingtime), '2026-06-01 12:03:00');
    assert.equal(h.rows[0].readings, a.reading.toFixed(4));
  });

  it('rows with only the documented freezeReading give that register at the local midnight it was frozen', () => {
    const rows = [
      { meterReadingtime: '2026-06-02 16:23:27', freezeReading: '120.5000', energyType: 'WATER', readings: '' },
      { meterReadingtime: '2026-06-02 18:00:00', freezeReading: '120.5000', energyType: 'WATER' },
      { meterReadingtime: 'not a time', freezeReading: '1' },
    ];
    const r = historyReadings(rows, 'w-1', 'WATER', 240);
    assert.deepEqual(r[0], { meter: 'w-1', time: Date.UTC(2026, 5, 1, 20, 0), obis: '8-0:1.0.0', value: 120.5, unit: 'm3' });
    assert.equal(r.length, 2, 'the row without a time gives nothing');
  });
});
