/**
 * DlmsClient against the scripted meter over the TCP wrapper and HDLC: registers (classes 3, 4, 5) as
 * canonical readings, the clock read and set, a load profile by time range, the object list.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type DlmsData, dateTimeFromEpochMs, dateTimeToEpochMs, decodeDateTime, encodeDateTime } from '../../lib/protocols/dlms/axdr';
import { DlmsClient } from '../../lib/protocols/dlms/client';
import { clientAddress, serverAddress } from '../../lib/protocols/dlms/hdlc';
import { DlmsServiceError, DlmsSession } from '../../lib/protocols/dlms/session';
import { openTcpStream } from '../../lib/protocols/dlms/transport';
import { HdlcChannel, WrapperChannel } from '../../lib/protocols/dlms/transport-channel';
import { obisToBytes } from '../../lib/protocols/dlms/units';
import type { AttributeRequest } from '../../lib/protocols/dlms/xdlms';
import { ScriptedMeter } from '../fixtures/dlms-scripted-meter';
import { within } from '../fixtures/within';

const CET = 60; // minutes east of UTC: meters send deviation -60
const octets = (ms: number): DlmsData => ({ type: 'octet-string', value: encodeDateTime(dateTimeFromEpochMs(ms, CET)) });
const su = (scaler: number, unit: number): DlmsData => ({ type: 'structure', items: [{ type: 'integer', value: scaler }, { type: 'enum', value: unit }] });
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

function meterObjects(): Map<string, DlmsData> {
  const m = new Map<string, DlmsData>();
  const set = (obis: string, attr: number, v: DlmsData) => m.set(`${obis}/${attr}`, v);
  set('1-0:1.8.0.255', 2, { type: 'double-long-unsigned', value: 12345678 }); // Wh
  set('1-0:1.8.0.255', 3, su(0, 30));
  set('1-0:32.7.0.255', 2, { type: 'long-unsigned', value: 2306 }); // 230.6 V
  set('1-0:32.7.0.255', 3, su(-1, 35));
  set('1-0:2.8.0.255', 2, { type: 'double-long-unsigned', value: 42 }); // extended register: 42 * 10^3 Wh, with a capture time
  set('1-0:2.8.0.255', 3, su(3, 30));
  set('1-0:2.8.0.255', 5, octets(T0 - 3_600_000));
  set('1-0:1.6.0.255', 3, { type: 'double-long-unsigned', value: 15250 }); // demand register: last average 15.25 kW
  set('1-0:1.6.0.255', 4, su(0, 27));
  set('1-0:1.6.0.255', 6, octets(T0 - 900_000));
  set('0-0:1.0.0.255', 2, octets(T0));
  set('0-0:1.0.0.255', 3, { type: 'long', value: -60 });
  set('1-0:99.1.0.255', 3, {
    type: 'array', items: [
      { classId: 8, obis: '0-0:1.0.0.255', attribute: 2 }, { classId: 3, obis: '1-0:1.8.0.255', attribute: 2 },
    ].map((c) => ({ type: 'structure', items: [{ type: 'long-unsigned', value: c.classId }, { type: 'octet-string', value: obisToBytes(c.obis) }, { type: 'integer', value: c.attribute }, { type: 'long-unsigned', value: 0 }] })),
  });
  set('0-0:40.0.0.255', 2, {
    type: 'array', items: [[8, 0, '0-0:1.0.0.255'], [3, 0, '1-0:1.8.0.255'], [7, 1, '1-0:99.1.0.255']].map(([c, v, o]) => ({
      type: 'structure', items: [{ type: 'long-unsigned', value: c as number }, { type: 'unsigned', value: v as number }, { type: 'octet-string', value: obisToBytes(o as string) }, { type: 'structure', items: [{ type: 'array', items: [] }, { type: 'array', items: [] }] }],
    })),
  });
  return m;
}

/** The load profile: one row per 15 minutes over a day, the scripted meter answers the asked range. */
function profile(r: AttributeRequest): DlmsData {
  const p = r.selection?.parameters;
  assert.equal(r.selection?.selector, 1);
  const [from, to] = p?.type === 'structure' ? [p.items[1], p.items[2]].map((d) => dateTimeToEpochMs(decodeDateTime((d as { value: Buffer }).value)) as number) : [0, 0];
  const rows: DlmsData[] = [];
  for (let t = Date.UTC(2026, 0, 15); t < Date.UTC(2026, 0, 16); t += 900_000) {
    if (t >= from && t <= to) rows.push({ type: 'structure', items: [octets(t), { type: 'double-long-unsigned', value: 1000 + (t - Date.UTC(2026, 0, 15)) / 900_000 }] });
  }
  return { type: 'array', items: rows };
}

const meters: ScriptedMeter[] = [];
after(async () => { await Promise.all(meters.map((m) => m.close())); });

for (const framing of ['wrapper', 'hdlc'] as const) {
  describe(`DlmsClient over ${framing}`, () => {
    it('reads registers, the clock, a profile range and the object list; sets the clock', async () => {
      const meter = new ScriptedMeter({ framing, objects: meterObjects(), select: profile, blockSize: 200, maxInfo: 64 });
      meters.push(meter);
      const port = await within(meter.listen(), 5000, 'the scripted meter to listen');
      const stream = await within(openTcpStream('127.0.0.1', port), 5000, 'the TCP connection');
      const channel = framing === 'wrapper' ? new WrapperChannel(stream) : new HdlcChannel(stream, { client: clientAddress(16), server: serverAddress(1, 17), frameTimeoutMs: 1000 });
      const session = new DlmsSession({ channel, mechanism: 'lowest' });
      await within(session.open(), 5000, 'the association');
      const client = new DlmsClient(session, { meter: 'grid-1', now: () => T0 });

      const readings = await within(client.readRegisters(['1-0:1.8.0.255', '1-0:32.7.0.255', { obis: '1-0:2.8.0.255', classId: 4 }, { obis: '1-0:1.6.0.255', classId: 5 }]), 5000, 'the register reads');
      assert.deepEqual(readings, [
        { meter: 'grid-1', time: T0, obis: '1-0:1.8.0', value: 12345.678, unit: 'kWh' },
        { meter: 'grid-1', time: T0, obis: '1-0:32.7.0', value: 230.6, unit: 'V' },
        { meter: 'grid-1', time: T0 - 3_600_000, obis: '1-0:2.8.0', value: 42, unit: 'kWh' },
        { meter: 'grid-1', time: T0 - 900_000, obis: '1-0:1.6.0', value: 15.25, unit: 'kW' },
      ]);
      await assert.rejects(client.readRegisters(['1-0:3.8.0.255']), (e: unknown) => e instanceof DlmsServiceError && /1-0:3\.8\.0\.255\/3 \(class 3\): object-undefined/.test(e.message));

      const clock = await within(client.readClock(), 5000, 'the clock read');
      assert.equal(clock.time, T0);
      assert.equal(clock.deviation, -60);
      const target = T0 + 123_000;
      await within(client.setClock(target), 5000, 'the clock set');
      const written = decodeDateTime((meter.objects.get('0-0:1.0.0.255/2') as { value: Buffer }).value);
      assert.deepEqual([written.hour, written.minute, written.second, written.deviation, written.clockStatus], [11, 2, 3, -60, 0], 'local CET time with the meter\'s deviation');
      assert.equal(dateTimeToEpochMs(written), target);

      const from = Date.UTC(2026, 0, 15, 6, 0), to = Date.UTC(2026, 0, 15, 12, 0);
      const p = await within(client.readProfile('1-0:99.1.0.255', from, to, -60), 5000, 'the profile read');
      assert.deepEqual(p.captures.map((c) => c.obis), ['0-0:1.0.0.255', '1-0:1.8.0.255']);
      assert.equal(p.rows.length, 25);
      assert.equal(p.rows[0].time, from);
      assert.equal(p.rows[24].time, to);
      assert.deepEqual(p.rows[4].values[1].value, { type: 'double-long-unsigned', value: 1000 + 28 });
      const profileReadings = await within(client.profileReadings(p), 5000, 'the profile as readings');
      assert.equal(profileReadings.length, 25);
      assert.deepEqual(profileReadings[0], { meter: 'grid-1', time: from, obis: '1-0:1.8.0', value: 1.024, unit: 'kWh' });
      assert.deepEqual(profileReadings[24], { meter: 'grid-1', time: to, obis: '1-0:1.8.0', value: 1.048, unit: 'kWh' });

      assert.deepEqual(await within(client.objectList(), 5000, 'the object list'), [
        { classId: 8, version: 0, obis: '0-0:1.0.0.255' }, { classId: 3, version: 0, obis: '1-0:1.8.0.255' }, { classId: 7, version: 1, obis: '1-0:99.1.0.255' },
      ]);
      const bounded = new DlmsClient(session, { meter: 'grid-1', maxRows: 10 });
      await assert.rejects(bounded.readProfile('1-0:99.1.0.255', from, to, -60), /25 profile rows, more than 10/);
      await within(session.close(), 5000, 'the release');
    });
  });
}
