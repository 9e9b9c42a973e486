// File imports of readings: real-world CSV shapes and an XLSX written by a spreadsheet library, read to readings or named bad rows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import writeXlsxFile from 'write-excel-file/node';
import { ApiError } from '../../lib/ems/envelope';
import { checkZipInflation, readTable, zipUnzippedSize, MAX_XLSX_UNZIPPED } from '../../lib/ems/imports/table';
import zlib from 'node:zlib';
import { tableReadings, type TableCheck } from '../../lib/ems/imports/readings';
import { IMPORT_QUALITY } from '../../lib/ems/imports/service';
import { Quality, qualityFlags } from '../../lib/model/quality';

const NOW = Date.UTC(2026, 11, 7, 12);
const BERLIN = 'Europe/Berlin';
const check = (over: Partial<TableCheck> = {}): TableCheck => ({ now: NOW, quality: IMPORT_QUALITY, timeZone: BERLIN, meterAllowed: (id) => ['m1', 'm2'].includes(id), ...over });
const read = async (text: string | Buffer, over: Partial<TableCheck> = {}, sheet?: string) => tableReadings(await readTable(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), sheet), check(over));
const iso = (t: number) => new Date(t).toISOString();
const brief = (rs: { meter: string; time: number; obis: string; value: number; unit: string; line: number }[]) => rs.map((r) => [r.line, r.meter, iso(r.time), r.obis, r.value, r.unit]);

describe('import files: CSV', () => {
  it('reads a semicolon CSV with a BOM, CRLF, quoted fields and decimal commas; local times in the EMS zone', async () => {
    const text = '\ufeffMeter ID;Date;OBIS Code;Reading;Unit\r\n'
      + '"m1";"01.03.2026 08:00";1-0:1.8.0;"1234,5";kWh\r\n'
      + 'm1;2026-03-01 09:00:30;1.8.0;1.235,25;kWh\r\n'
      + '\r\n'
      + 'm2;2026-03-01T10:00:00Z;8-0:1.0.0;"12,125";m3\r\n';
    const table = await readTable(Buffer.from(text, 'utf8'));
    assert.equal(table.format, 'csv');
    assert.equal(table.separator, ';');
    const got = tableReadings(table, check());
    assert.deepEqual(got.errors, []);
    assert.deepEqual(got.columns, { meter: 'Meter ID', time: 'Date', obis: 'OBIS Code', value: 'Reading', unit: 'Unit' });
    assert.deepEqual(brief(got.readings), [
      [2, 'm1', '2026-03-01T07:00:00.000Z', '1-0:1.8.0', 1234.5, 'kWh'],
      [3, 'm1', '2026-03-01T08:00:30.000Z', '1-0:1.8.0', 1235.25, 'kWh'],
      [5, 'm2', '2026-03-01T10:00:00.000Z', '8-0:1.0.0', 12.125, 'm3'],
    ]);
    assert.deepEqual(qualityFlags(got.readings[0].quality), ['MANUAL', 'IMPORTED']);
  });

  it('reads a comma CSV with separators and quotes inside quoted fields, epoch ms and an offset; ignores extra columns', async () => {
    const text = 'time,meter,obis,value,unit,"note, free text"\n'
      + `${Date.UTC(2026, 2, 1, 6)},m1,1-0:1.8.0,100.5,kWh,"read by ""Hans"", gate 2"\n`
      + '2026-03-01T08:00:00+01:00,m1,1-0:1.8.0,0.1015,MWh,\n';
    const got = await read(text);
    assert.deepEqual(got.errors, []);
    assert.deepEqual(got.ignored, ['note, free text']);
    assert.deepEqual(brief(got.readings), [
      [2, 'm1', '2026-03-01T06:00:00.000Z', '1-0:1.8.0', 100.5, 'kWh'],
      [3, 'm1', '2026-03-01T07:00:00.000Z', '1-0:1.8.0', 101.5, 'kWh'],
    ]);
  });

  it('reads the German header of a meter-reading export (Zähler; Zeit; Kennzahl; Zählerstand; Einheit)', async () => {
    const got = await read('\ufeffZähler;Zeit;Kennzahl;Zählerstand;Einheit\r\nm1;01.03.2026 08:00;1-0:1.8.0;1.234,5;kWh\r\n');
    assert.deepEqual(got.errors, []);
    assert.deepEqual(got.columns, { meter: 'Zähler', time: 'Zeit', obis: 'Kennzahl', value: 'Zählerstand', unit: 'Einheit' });
    assert.deepEqual(brief(got.readings), [[2, 'm1', '2026-03-01T07:00:00.000Z', '1-0:1.8.0', 1234.5, 'kWh']]);
  });

  it('reads a tab-separated file for one meter without a meter column', async () => {
    const got = await read('timestamp\tobis\tvalue\tunit\n2026-03-01 00:00\t1-0:1.8.0\t7\tkWh\n', { meter: 'm2' });
    assert.deepEqual(brief(got.readings), [[2, 'm2', '2026-02-28T23:00:00.000Z', '1-0:1.8.0', 7, 'kWh']]);
  });

  it('names every bad row by line, column and value; a quoted line break keeps later line numbers right', async () => {
    const text = 'meter;time;obis;value;unit\r\n'
      + 'm1;"01.03.2026\r\n08:00";1-0:1.8.0;1;kWh\r\n' // lines 2-3: a line break inside quotes
      + 'm1;2026-03-29 02:30;1-0:1.8.0;2;kWh\r\n' // 4: skipped by the spring DST change
      + 'm1;2026-10-25 02:30;1-0:1.8.0;3;kWh\r\n' // 5: happens twice in autumn
      + 'm1;2026-03-02 08:00;1-0:1.8.0;zwölf;kWh\r\n' // 6
      + 'm1;2026-03-02 09:00;1-0:1.8.0;4;m3\r\n' // 7: a water unit for electricity
      + 'secret;2026-03-02 10:00;1-0:1.8.0;5;kWh\r\n' // 8: a meter the caller may not import for
      + 'm1;2026-03-02 11:00;9.9.9.9;6;kWh\r\n' // 9
      + 'm1;2027-03-02 11:00;1-0:1.8.0;6;kWh\r\n' // 10: in the future
      + 'm1;2026-03-02 08:00;1-0:1.8.0;1;kWh\r\n' // 11: good
      + 'm1;02.03.2026 08:00;1-0:1.8.0;1;kWh\r\n'; // 12: the same reading as line 11
    const got = await read(text);
    assert.deepEqual(got.errors.map((e) => [e.line, e.column, e.value]), [
      [2, 'time', '01.03.2026\r\n08:00'],
      [4, 'time', '2026-03-29 02:30'],
      [5, 'time', '2026-10-25 02:30'],
      [6, 'value', 'zwölf'],
      [7, 'unit', 'm3'],
      [8, 'meter', 'secret'],
      [9, 'obis', '9.9.9.9'],
      [10, 'time', '2027-03-02 11:00'],
      [12, 'time', '02.03.2026 08:00'],
    ]);
    const byLine = new Map(got.errors.map((e) => [e.line, e.message]));
    assert.match(byLine.get(4)!, /does not exist in Europe\/Berlin/);
    assert.match(byLine.get(5)!, /happens twice in Europe\/Berlin.*2026-10-25T00:30:00.000Z or 2026-10-25T01:30:00.000Z/);
    assert.match(byLine.get(8)!, /not a meter you may import for/);
    assert.match(byLine.get(12)!, /of line 11/);
    assert.deepEqual(got.readings.map((r) => r.line), [11]);
  });

  it('refuses epoch seconds and spreadsheet day numbers instead of reading them as 1970', async () => {
    const got = await read('meter,time,obis,value,unit\nm1,1764576000,1-0:1.8.0,1,kWh\nm1,1764576000000,1-0:1.8.0,1,kWh\n');
    assert.deepEqual(got.errors.map((e) => [e.line, e.column, e.value]), [[2, 'time', '1764576000']]);
    assert.deepEqual(got.readings.map((r) => iso(r.time)), ['2025-12-01T08:00:00.000Z']);
  });

  it('refuses a header without the needed columns, naming them and their accepted names', async () => {
    await assert.rejects(read('meter,when,value\nm1,x,1\n'), (e: ApiError) => e.status === 400 && /no time, obis, unit columns/.test(e.message) && /time: time\/timestamp/.test(e.message));
    await assert.rejects(read('time,obis,value,unit\nx,1.8.0,1,kWh\n'), /no meter column.*meter=<id>/);
  });
});

describe('import files: XLSX', () => {
  it('reads date and number cells of an XLSX written by write-excel-file (dates as local times in the EMS zone)', async () => {
    const head = ['Meter', 'Time', 'OBIS', 'Value', 'Unit'].map((value) => ({ value }));
    const row = (meter: string, wall: Date, obis: string, value: number | string, unit: string) => [
      { value: meter }, { value: wall, format: 'yyyy-mm-dd hh:mm:ss' }, { value: obis }, typeof value === 'number' ? { value, type: Number } : { value }, { value: unit },
    ];
    const bytes = await writeXlsxFile([head, row('m1', new Date(Date.UTC(2026, 0, 15, 8)), '1-0:1.8.0', 1234.5, 'kWh'), row('m1', new Date(Date.UTC(2026, 6, 15, 8, 15, 30)), '1-0:1.8.0', 1300, 'kWh'),
      row('m1', new Date(Date.UTC(2026, 6, 16)), '1-0:1.8.0', 'n/a', 'kWh')] as never).toBuffer();
    const table = await readTable(bytes);
    assert.equal(table.format, 'xlsx');
    assert.equal(table.sheet, 'Sheet1');
    const got = tableReadings(table, check());
    assert.deepEqual(brief(got.readings), [
      [2, 'm1', '2026-01-15T07:00:00.000Z', '1-0:1.8.0', 1234.5, 'kWh'], // CET
      [3, 'm1', '2026-07-15T06:15:30.000Z', '1-0:1.8.0', 1300, 'kWh'], // CEST
    ]);
    assert.deepEqual(got.errors.map((e) => [e.line, e.column, e.value]), [[4, 'Value', 'n/a']]);
    await assert.rejects(readTable(bytes, 'Readings'), /sheet "Readings" is not in the file \(its sheets: "Sheet1"\)/);
  });

  it('refuses an XLSX whose zip declares an absurd unzipped size before unzipping it', async () => {
    const bytes = Buffer.from(await writeXlsxFile([[{ value: 'x' }]] as never).toBuffer());
    assert.ok(zipUnzippedSize(bytes) > 0 && zipUnzippedSize(bytes) < 100_000);
    // declare 4 GB for the first part in the central directory (the bytes stay small)
    const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const bomb = Buffer.from(bytes);
    bomb.writeUInt32LE(0xfffffff0, central + 24);
    assert.ok(zipUnzippedSize(bomb) > MAX_XLSX_UNZIPPED);
    await assert.rejects(readTable(bomb), /unzips to \d+ bytes, more than \d+ \(refused before unzipping\)/);
  });

  it('refuses a zip bomb whose directory understates its sizes, after inflating no more than the limit', async () => {
    const bytes = Buffer.from(await writeXlsxFile([[{ value: 'x' }]] as never).toBuffer());
    const real = checkZipInflation(bytes);
    assert.ok(real > 0 && real < 100_000, `a real XLSX inflates to ${real} bytes`);
    // One deflated entry of 4 MiB of zeros whose headers claim 10 bytes, with and without a data descriptor.
    const data = zlib.deflateRawSync(Buffer.alloc(4 * 1024 * 1024));
    for (const flags of [0, 0x08]) {
      const head = Buffer.alloc(30 + 5);
      head.writeUInt32LE(0x04034b50, 0);
      head.writeUInt16LE(flags, 6);
      head.writeUInt16LE(8, 8);
      head.writeUInt32LE(flags ? 0 : data.length, 18);
      head.writeUInt32LE(10, 22);
      head.writeUInt16LE(5, 26);
      head.write('a.xml', 30, 'latin1');
      const bomb = Buffer.concat([head, data, Buffer.alloc(16)]);
      assert.throws(() => checkZipInflation(bomb, 1024 * 1024), /unzips to more than 1048576 bytes \(refused while unzipping\)/, `flags ${flags}`);
      assert.equal(checkZipInflation(bomb, 8 * 1024 * 1024), 4 * 1024 * 1024, 'under a larger limit its real size is measured');
    }
  });

  it('keeps IMPORTED beside MANUAL as a documented flag', () => {
    assert.equal(Quality.IMPORTED, 1 << 10);
    assert.deepEqual(qualityFlags(IMPORT_QUALITY), ['MANUAL', 'IMPORTED']);
  });
});
