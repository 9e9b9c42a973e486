import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIntervalsCsv, parseTime } from '../../lib/tariff';

describe('tariff CSV', () => {
  it('reads ISO times with offsets and local times in the tariff zone', () => {
    assert.equal(parseTime('2026-03-02T08:00:00Z', 'Europe/Berlin'), Date.UTC(2026, 2, 2, 8));
    assert.equal(parseTime('2026-03-02T08:00+01:00', 'Europe/Berlin'), Date.UTC(2026, 2, 2, 7));
    // local 08:00 in Berlin winter (+01:00) = 07:00 UTC; in New York (-05:00) = 13:00 UTC
    assert.equal(parseTime('2026-03-02 08:00', 'Europe/Berlin'), Date.UTC(2026, 2, 2, 7));
    assert.equal(parseTime('2026-03-02 08:00:30', 'America/New_York'), Date.UTC(2026, 2, 2, 13, 0, 30));
    assert.equal(parseTime('2026-02-30 08:00', 'Europe/Berlin'), undefined);
    assert.equal(parseTime('08:00', 'Europe/Berlin'), undefined);
  });

  it('parses rows with optional columns in any order', () => {
    const rows = parseIntervalsCsv('# export\nunit,quantity,start,end,energyType,meter\nm3,1.5,2026-03-02 08:00,2026-03-02 09:00,water,w1\n\n', 'Europe/Berlin');
    assert.deepEqual(rows, [{ start: Date.UTC(2026, 2, 2, 7), end: Date.UTC(2026, 2, 2, 8), quantity: 1.5, unit: 'm3', energyType: 'water', meter: 'w1' }]);
  });

  it('names the row and column of bad input', () => {
    const z = 'Europe/Berlin';
    assert.throws(() => parseIntervalsCsv('start,end,quantity\n', z), /row 1: header lacks column "unit"/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit,colour\n', z), /row 1, column 5: unknown column "colour"/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit\n2026-03-02 08:00,2026-03-02 09:00,1\n', z), /row 2: expected 4 columns, got 3/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit\n2026-03-02 09:00,2026-03-02 08:00,1,kWh\n', z), /row 2, column 2 \(end\): end must be after start/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit,energyType\n2026-03-02 08:00,2026-03-02 09:00,1,kWh,steam\n', z), /row 2, column 5 \(energytype\): expected one of .* got "steam"/);
  });
});
