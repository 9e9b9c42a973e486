/**
 * `ems-sim wmbus`: simulated meters' telegrams (hex, rtl-wmbus, JSON lines) decode with their key, in modes
 * 5 and 7, with rising registers; bad options are refused by name. `ems-decode wmbus` prints the structure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeWmbus, parseReceived, wmbusToReadings } from '../../lib/protocols/wmbus';
import { decodeWmbusText } from '../../lib/protocols/wmbus/decode-cli';
import { UsageError } from '../../lib/sim/registry';
import { wmbusCli, WMBUS_SIM_DEFAULT_KEY, WmbusSimulator } from '../../lib/sim/wmbus';

describe('ems-sim wmbus', () => {
  it('writes one line per meter per interval; each decodes with the key to rising values (modes 5 and 7)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wmbus-sim-'));
    const out = path.join(dir, 'lines.txt');
    const o = wmbusCli.parse({ meters: '3', interval: '0.1', out, line: 'rtl-wmbus', frame: 'A', speed: '600' });
    const sim = new WmbusSimulator(o);
    await sim.start();
    await new Promise((r) => setTimeout(r, 450));
    await sim.close();
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    fs.rmSync(dir, { recursive: true, force: true });
    assert.ok(lines.length >= 9, `${lines.length} lines`);
    const byMeter = new Map<string, number[]>();
    const modes = new Set<number>();
    for (const line of lines) {
      const d = decodeWmbus(parseReceived(line).bytes, { key: WMBUS_SIM_DEFAULT_KEY });
      assert.equal(d.link.format, 'A');
      modes.add(d.security.mode);
      const r = wmbusToReadings(d, { meter: d.meter.id, time: 0 });
      const main = r.find((x) => /^[678]-0:(1|3)\.0\.0$/.test(x.obis))!;
      byMeter.set(d.meter.id, [...(byMeter.get(d.meter.id) ?? []), main.value]);
    }
    assert.deepEqual([...modes].sort(), [5, 7]);
    assert.deepEqual([...byMeter.keys()].sort(), ['12345678', '12345679', '12345680']);
    for (const [id, values] of byMeter) assert.ok(values.at(-1)! > values[0], `meter ${id} rises: ${values}`);
  });

  it('refuses bad options by name', () => {
    assert.throws(() => wmbusCli.parse({ key: 'abc' }), (e: Error) => e instanceof UsageError && /--key: must be 32 hex digits/.test(e.message));
    assert.throws(() => wmbusCli.parse({ mode: '6' }), /--mode: "6" is not 5, 7, 0 or mixed/);
    assert.throws(() => wmbusCli.parse({ 'first-id': '99999999', meters: '2' }), /--first-id/);
    assert.throws(() => wmbusCli.parse({ mqtt: 'http://x' }), /--mqtt/);
  });
});

describe('ems-decode wmbus', () => {
  const annex = '2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3';
  it('prints header, security and records with --key', () => {
    const out = decodeWmbusText(`--key 0102030405060708090A0B0C0D0E0F11 ${annex}`, {}) as any;
    assert.equal(out.link.manufacturer, 'ELS');
    assert.equal(out.tpl.configuration, '0x2520');
    assert.equal(out.security.decrypted, true);
    assert.equal(out.records[0].value, 28504.27);
    assert.doesNotMatch(JSON.stringify(out), /0102030405060708090A0B0C0D0E0F11/);
  });
  it('says the key is wrong, and takes the key from EMS_WMBUS_KEY', () => {
    assert.throws(() => decodeWmbusText(`--key 0102030405060708090A0B0C0D0E0F12 ${annex}`, {}), /wrong key/);
    assert.equal((decodeWmbusText(annex, { EMS_WMBUS_KEY: '0102030405060708090A0B0C0D0E0F11' }) as any).records.length, 3);
  });
});
