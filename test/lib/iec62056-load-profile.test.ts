// Load profile 1 (R5 P.01): published answers of real meters, and a round trip through the simulator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TcpLink } from '../../lib/protocols/hex/link';
import {
  loadProfileRequest, parseLoadProfile, parseProfileTime, profileReadings, program, statusQuality,
} from '../../lib/protocols/iec62056-21';
import { Quality, qualityFlags } from '../../lib/model/quality';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';

const FIX = path.resolve(__dirname, '../../../test/fixtures/iec62056');
const fixture = (name: string) => fs.readFileSync(path.join(FIX, name), 'latin1');

describe('IEC 62056-21 load profile (P.01) codec', () => {
  it('parses the published EMH answer: header time in summer time, 8-digit status, six channels with short codes', () => {
    const blocks = parseLoadProfile(fixture('emh-p01.txt'), 'Europe/Berlin');
    assert.equal(blocks.length, 1);
    const b = blocks[0];
    // "1220823161500": season 1 (summer), 2022-08-23 16:15:00 CEST = 14:15 UTC.
    assert.equal(new Date(b.start).toISOString(), '2022-08-23T14:15:00.000Z');
    assert.equal(b.status, 0);
    assert.equal(b.periodMs, 15 * 60_000);
    assert.deepEqual(b.channels.map((c) => c.obis), ['1.5', '2.5', '5.5', '6.5', '7.5', '8.5']);
    assert.deepEqual(b.records, [[0.18374, 0.00078, 0, 0.00006, 0.00087, 0.02431], [0.16832, 0, 0, 0, 0, 0.02686]]);
    const r = profileReadings(blocks, { meter: 'emh', quality: Quality.BACKFILLED });
    assert.equal(r.length, 12);
    assert.deepEqual(r.filter((x) => x.obis === '1-0:1.5.0').map((x) => [new Date(x.time).toISOString(), x.value, x.unit]),
      [['2022-08-23T14:15:00.000Z', 0.18374, 'kW'], ['2022-08-23T14:30:00.000Z', 0.16832, 'kW']]);
    assert.ok(r.every((x) => x.quality === Quality.BACKFILLED));
    assert.equal(r.find((x) => x.obis === '1-0:8.5.0')!.unit, 'kvar');
  });

  it('parses the published Metcom answer: status 08 (season change) flags every record of the block as clock-adjusted', () => {
    const blocks = parseLoadProfile(fixture('metcom-p01.txt'), 'Europe/Berlin');
    assert.equal(blocks[0].statusText, '08');
    assert.equal(blocks[0].records.length, 4);
    const r = profileReadings(blocks, { meter: 'metcom', quality: Quality.BACKFILLED });
    assert.equal(r.length, 24);
    assert.deepEqual(qualityFlags(r[0].quality), ['CLOCK_ADJUSTED', 'BACKFILLED']);
    const imp = r.filter((x) => x.obis === '1-0:2.5.0');
    assert.deepEqual(imp.map((x) => x.value), [0.12683, 0.06188, 0.1125, 0.04656]);
    assert.deepEqual(imp.map((x) => new Date(x.time).toISOString().slice(11, 16)), ['13:00', '13:15', '13:30', '13:45']);
    // Only records with from < time <= to are kept.
    const cut = profileReadings(blocks, { meter: 'metcom', from: imp[0].time, to: imp[2].time });
    assert.deepEqual([...new Set(cut.map((x) => x.time))], [imp[1].time, imp[2].time]);
  });

  it('maps the status bits to flags and settles the repeated hour of the autumn change by the season digit', () => {
    assert.equal(statusQuality(0x80), Quality.SUSPECT);
    assert.equal(statusQuality(0x20), Quality.CLOCK_ADJUSTED);
    assert.equal(statusQuality(0x04), Quality.ESTIMATED);
    assert.equal(statusQuality(0), 0);
    // 2026-10-25 02:30 happens twice in Berlin: summer (00:30 UTC) then winter (01:30 UTC).
    assert.equal(new Date(parseProfileTime('1261025023000', 'Europe/Berlin')).toISOString(), '2026-10-25T00:30:00.000Z');
    assert.equal(new Date(parseProfileTime('0261025023000', 'Europe/Berlin')).toISOString(), '2026-10-25T01:30:00.000Z');
    assert.equal(loadProfileRequest(Date.UTC(2013, 0, 31, 7, 0, 20), Date.UTC(2013, 1, 1, 7, 0), 'Europe/Berlin'), 'P.01(01301310800;01302010800)');
  });

  it('refuses malformed answers with the field and the value', () => {
    assert.throws(() => parseLoadProfile('P.01(1220823161500)(00)(15)(2)(1.5)(kW)\r\n', 'UTC'), /2 channels announced, fewer given/);
    assert.throws(() => parseLoadProfile('P.01(1220823161500)(00)(15)(1)(1.5)(kW)\r\n(0.1x)\r\n', 'UTC'), /value "0\.1x" is not a number/);
    assert.throws(() => parseLoadProfile('P.01(12208231615)(00)(fifteen)(1)(1.5)(kW)\r\n', 'UTC'), /period "fifteen"/);
    assert.throws(() => parseLoadProfile('P.01(1220823161500)(00)(15)(1)(1.5)(kW)\r\n(1)(2)(3)', 'UTC', 2), /more than 2 records/);
  });
});

describe('IEC 62056-21 load profile against the simulator', () => {
  let sim: Iec62056Simulator;
  let port: number;
  const links: TcpLink[] = [];
  const started = Date.now();
  before(async () => {
    sim = new Iec62056Simulator({ meters: [{ address: '12345678', profile: findSimMeter('iskra-mt174')!, password: '00000000', profilePeriodSeconds: 1, speed: 3600, timeZone: 'Europe/Berlin' }] });
    port = await sim.listen(0);
  });
  after(async () => {
    for (const l of links) await l.close();
    await sim.close();
  });

  it('keeps recording while the line is dead and answers R5 P.01 for a span with rising counters', async () => {
    sim.meter('12345678').setFault('dead');
    await new Promise((r) => setTimeout(r, 3200));
    sim.meter('12345678').setFault(undefined);
    const l = await TcpLink.open('127.0.0.1', port, true);
    links.push(l);
    const s = await program(l, '00000000', { address: '12345678', timeoutMs: 2000 });
    const to = Date.now();
    const text = await s.loadProfile(started, to, 'Europe/Berlin');
    await s.close();
    const blocks = parseLoadProfile(text, 'Europe/Berlin');
    assert.equal(blocks[0].periodMs, 1000);
    const r = profileReadings(blocks, { meter: 'sim', from: started, to, quality: Quality.BACKFILLED }).filter((x) => x.obis === '1-0:1.8.0');
    assert.ok(r.length >= 3, `${r.length} records of 1-0:1.8.0`);
    assert.ok(r.every((x, i) => i === 0 || (x.time - r[i - 1].time === 1000 && x.value > r[i - 1].value)), 'one record a second, rising');
    // speed 3600: 1.2 kWh per simulated hour = per real second.
    assert.ok(Math.abs(r[1].value - r[0].value - 1.2) < 0.01, `${r[1].value - r[0].value}`);
    assert.ok(r.every((x) => x.time > started && x.time <= to && x.unit === 'kWh' && x.quality === Quality.BACKFILLED));
    assert.equal(sim.meter('12345678').stats.profileReads.length, 1);
  });

  it('refuses R5 P.01 without the password', async () => {
    const l = await TcpLink.open('127.0.0.1', port, true);
    links.push(l);
    const s = await program(l, '', { address: '12345678', timeoutMs: 2000 });
    await assert.rejects(s.loadProfile(started, Date.now(), 'Europe/Berlin'), /refused R5 P\.01\(.*\) \(NAK\)/);
    await s.close();
  });
});
