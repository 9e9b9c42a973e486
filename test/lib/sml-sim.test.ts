/** The SML simulator: its telegrams decode (ours and smartmeter-obis), registers rise, power turns to export; TCP push; ems-sim options. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { decodeCapture, toReadings, SmlTelegramReader, type SmlTelegram } from '../../lib/protocols/sml';
import { SimSmlMeter, SmlSimulator, simPower } from '../../lib/sim/sml';
import { findSimulator, UsageError } from '../../lib/sim';

function decodeOne(t: Buffer) {
  const [e] = decodeCapture(t);
  if (!e.telegram) throw e.error;
  return Object.fromEntries(toReadings(e.telegram.messages, { meter: 'sim', now: 0 }).map((r) => [r.obis, r]));
}

describe('SML simulator', () => {
  it('telegrams decode with rising import, then export and negative power half a cycle later', () => {
    let now = 1_700_000_000_000;
    const m = new SimSmlMeter({ speed: 3600, now: () => now });
    const first = decodeOne(m.telegram());
    assert.deepEqual(Object.keys(first).sort(), ['1-0:1.8.0', '1-0:16.7.0', '1-0:2.8.0']);
    assert.equal(first['1-0:1.8.0'].value, 12345.6789);
    assert.equal(first['1-0:1.8.0'].unit, 'kWh');
    assert.equal(first['1-0:16.7.0'].value, 0.3, '300 W at hour 0');
    now += 1000; // one simulated hour: power 300..1200 W, all imported
    const hour1 = decodeOne(m.telegram());
    assert.ok(hour1['1-0:1.8.0'].value - first['1-0:1.8.0'].value > 0.8, `import rose ${hour1['1-0:1.8.0'].value}`);
    assert.equal(hour1['1-0:2.8.0'].value, first['1-0:2.8.0'].value);
    assert.equal(hour1['1-0:16.7.0'].value, 1.2);
    now += 2000; // hour 3: exporting 600 W
    const hour3 = decodeOne(m.telegram());
    assert.equal(hour3['1-0:16.7.0'].value, Math.round(simPower(3)) / 1000);
    assert.ok(hour3['1-0:16.7.0'].value < 0);
    assert.ok(hour3['1-0:2.8.0'].value > first['1-0:2.8.0'].value, 'export rose');
  });

  it('smartmeter-obis decodes the simulator telegram to the same values', () => {
    const m = new SimSmlMeter({ now: () => 0 });
    const t = m.telegram();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const SmlProtocol = require('smartmeter-obis/lib/protocols/SmlProtocol');
    let res: Record<string, { values: { value: unknown; unit: unknown }[] }> = {};
    new SmlProtocol({ debug: 0, logger: () => undefined }, (err: unknown, r: typeof res) => { assert.ifError(err); res = r; }).handleMessage(t);
    assert.deepEqual(res['1-0:1.8.0*255'].values[0], { value: 12345.6789, unit: 'kWh' });
    assert.deepEqual(res['1-0:2.8.0*255'].values[0], { value: 1234.5678, unit: 'kWh' });
    assert.deepEqual(res['1-0:16.7.0*255'].values[0], { value: 300, unit: 'W' });
    assert.equal(res['129-129:199.130.3*255'].values[0].value, 'EMH');
  });

  it('pushes a telegram every interval to each TCP client, like an IR head bridge', async () => {
    const sim = new SmlSimulator({ intervalMs: 100, speed: 3600, serverId: Buffer.from('0a01445a470000000001', 'hex') });
    const port = await sim.listen(0);
    try {
      const socket = net.connect(port, '127.0.0.1');
      const reader = new SmlTelegramReader();
      const got: SmlTelegram[] = [];
      await new Promise<void>((resolve, reject) => {
        socket.on('data', (d) => {
          for (const e of reader.push(d)) {
            if (e.error) reject(e.error);
            else got.push(e.telegram);
          }
          if (got.length >= 3) resolve();
        });
        socket.on('error', reject);
      });
      socket.destroy();
      assert.equal(got[0].serverId, '0a01445a470000000001');
      const energy = got.map((t) => toReadings(t.messages, { now: 0 }).find((r) => r.obis === '1-0:1.8.0')!.value);
      assert.ok(energy[2] > energy[0], `1.8.0 rises: ${energy.join(', ')}`);
      assert.equal(toReadings(got[0].messages, { now: 0 })[0].meter, '0a01445a470000000001', 'meter id defaults to the server id');
    } finally {
      await sim.close();
    }
  });

  it('ems-sim sml options', () => {
    const e = findSimulator('sml')!;
    assert.deepEqual(e.parse({ port: '0', interval: '0.5', speed: '60', 'server-id': '0A 01 49 53 4B' }), { host: '127.0.0.1', port: 0, intervalMs: 500, speed: 60, serverId: Buffer.from('0a0149534b', 'hex') });
    assert.throws(() => e.parse({ interval: '0' }), (x: Error) => x instanceof UsageError && /--interval: "0"/.test(x.message));
    assert.throws(() => e.parse({ 'server-id': 'xyz' }), /--server-id: "xyz" is not 1..32 bytes of hex/);
    assert.throws(() => e.parse({ speed: '-1' }), /--speed/);
  });
});
