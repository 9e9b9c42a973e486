/**
 * Real telegrams of ten meter models: every frame decodes to the values its source states, and
 * smartmeter-obis (npm, a decoder we did not write) decoding the same bytes agrees on OBIS, values
 * and units.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toCanonical } from '../../lib/model';
import { decodeCapture, toReadings, type SmlTelegram } from '../../lib/protocols/sml';
import { FIXTURES, SMARTMETER_OBIS_EMH, fixtureBytes } from './sml-fixtures';

/** smartmeter-obis's SmlProtocol on one frame: {"A-B:C.D.E*F": {value, unit}}. */
function smartmeterObis(raw: Buffer, ignoreInvalidCrc = false): Record<string, { value: unknown; unit: unknown }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const SmlProtocol = require('smartmeter-obis/lib/protocols/SmlProtocol');
  let out: Record<string, { values: { value: unknown; unit: unknown }[] }> | undefined;
  let failure: unknown;
  new SmlProtocol({ debug: 0, logger: () => undefined, protocolSmlIgnoreInvalidCRC: ignoreInvalidCrc }, (err: unknown, r: typeof out) => { failure = err; out = r; }).handleMessage(raw);
  assert.ifError(failure);
  assert.ok(out, 'smartmeter-obis returned a result');
  return Object.fromEntries(Object.entries(out).map(([k, m]) => [k, m.values[0]]));
}

/** smartmeter-obis's unit names (resolved from the same DLMS codes) in the EMS unit table. */
const THEIR_UNITS: Record<string, string> = { kWh: 'kWh', Wh: 'Wh', W: 'W', V: 'V', A: 'A', Hz: 'Hz', '°': 'deg', var: 'var', varh: 'varh' };
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function telegrams(file: string): { telegrams: SmlTelegram[]; errors: string[] } {
  const events = decodeCapture(fixtureBytes(file));
  return { telegrams: events.flatMap((e) => (e.telegram ? [e.telegram] : [])), errors: events.flatMap((e) => (e.error ? [e.error.message] : [])) };
}

describe('SML: real telegrams decode to the values their sources state', () => {
  for (const fx of FIXTURES) {
    it(`${fx.meter} (${fx.file})`, () => {
      const { telegrams: got, errors } = telegrams(fx.file);
      assert.equal(got.length, fx.frames.length, `frames decoded (errors: ${errors.join('; ')})`);
      assert.equal(errors.length, (fx.errors ?? []).length, `errors: ${errors.join('; ')}`);
      (fx.errors ?? []).forEach((re, i) => assert.match(errors[i], re));
      fx.frames.forEach((want, i) => {
        const t = got[i];
        assert.equal(t.serverId, Buffer.from(fx.serverId).toString('hex'), `frame ${i} server id`);
        const list = t.messages.find((m) => m.body.kind === 'getListResponse')!.body;
        assert.equal(list.kind, 'getListResponse');
        const time = t.sensorTime?.value ?? (list.kind === 'getListResponse' ? list.valList.find((e) => e.valTime)?.valTime?.value : undefined);
        assert.equal(time, want.time, `frame ${i} time`);
        const readings = toReadings(t.messages, { meter: 'm1', now: 0 });
        assert.deepEqual(readings.map((r) => r.obis).sort(), Object.keys(want.values).sort(), `frame ${i} OBIS codes`);
        for (const [obis, [value, unit]] of Object.entries(want.values)) {
          const r = readings.find((x) => x.obis === obis)!;
          const c = toCanonical(value, unit === '°' ? 'deg' : unit);
          assert.equal(r.unit, c.unit, `${obis} unit`);
          assert.ok(close(r.value, c.value), `frame ${i} ${obis}: ${r.value} ${r.unit}, source says ${value} ${unit}`);
          assert.equal(r.meter, 'm1');
          assert.equal(r.time, 0, 'no UTC timestamp in the telegram: the receive time');
        }
      });
    });
  }

  it(`smartmeter-obis's own test telegram: ${SMARTMETER_OBIS_EMH.energy.obis} = ${SMARTMETER_OBIS_EMH.energy.value} kWh, manufacturer EMH`, () => {
    const { telegrams: [t], errors } = telegrams(SMARTMETER_OBIS_EMH.file);
    assert.deepEqual(errors, []);
    const r = toReadings(t.messages, { now: 0 });
    assert.deepEqual(r.find((x) => x.obis === SMARTMETER_OBIS_EMH.energy.obis), { meter: '0901454d48000041f045', time: 0, obis: '1-0:1.8.1', value: 15338.5557, unit: 'kWh' });
    const list = t.messages[1].body;
    assert.equal(list.kind === 'getListResponse' && list.valList[0].obis, '129-129:199.130.3');
    assert.equal(list.kind === 'getListResponse' && String(list.valList[0].value), SMARTMETER_OBIS_EMH.manufacturer);
  });
});

describe('SML: smartmeter-obis decoding the same frames agrees', () => {
  for (const fx of [...FIXTURES.map((x) => x.file), SMARTMETER_OBIS_EMH.file]) {
    it(fx, () => {
      const { telegrams: got } = telegrams(fx);
      assert.ok(got.length > 0);
      for (const t of got) {
        // The MT691 that shortens a message CRC to one byte (0x62 E0) fails smartmeter-obis's CRC check
        // (it assumes a 3-byte field); sml-rs and we accept it. Compared with its CRC check off.
        const short = fx === 'iskra-mt691-short-crc.hex';
        if (short) assert.throws(() => smartmeterObis(t.frame.raw), /CRC-Check invalid/);
        const theirs = smartmeterObis(t.frame.raw, short);
        const list = t.messages.find((m) => m.body.kind === 'getListResponse')!.body;
        if (list.kind !== 'getListResponse') throw new Error('no GetListResponse');
        // every list entry: same OBIS (with F), same value (scaled), same unit
        assert.equal(Object.keys(theirs).length, list.valList.length, 'entries');
        for (const e of list.valList) {
          const key = `${e.obis}*${e.objName[5]}`;
          const their = theirs[key];
          assert.ok(their, `smartmeter-obis has ${key}`);
          if (Buffer.isBuffer(e.value)) {
            const printable = e.value.every((c) => c >= 32 && c <= 126);
            assert.equal(their.value, printable ? e.value.toString('latin1') : e.value.toString('hex'), key);
          }
        }
        const readings = toReadings(t.messages, { meter: 'm', now: 0 });
        assert.ok(readings.length > 0);
        for (const r of readings) {
          const their = theirs[`${r.obis}*255`];
          assert.ok(their, `smartmeter-obis has ${r.obis}*255`);
          const unit = THEIR_UNITS[String(their.unit)];
          assert.ok(unit, `smartmeter-obis unit ${String(their.unit)} of ${r.obis}`);
          const c = toCanonical(Number(their.value), unit);
          assert.equal(r.unit, c.unit, `${r.obis} unit`);
          assert.ok(close(r.value, c.value), `${fx} ${r.obis}: ours ${r.value} ${r.unit}, smartmeter-obis ${String(their.value)} ${String(their.unit)}`);
        }
      }
    });
  }
});
