/**
 * The two halves written apart meet here: `DlmsClient` (our client) against `ems-sim dlms` (our meter) over
 * real loopback TCP, through the wrapper with LLS and through HDLC with ciphered HLS-GMAC, and a load profile
 * that agrees with the registers the meter read at the same instants.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientAddress, serverAddress } from '../../lib/protocols/dlms/hdlc';
import { DlmsClient } from '../../lib/protocols/dlms/client';
import { FileCounterStore, MemoryCounterStore } from '../../lib/protocols/dlms/counter';
import { DlmsSession } from '../../lib/protocols/dlms/session';
import { openTcpStream } from '../../lib/protocols/dlms/transport';
import { HdlcChannel, WrapperChannel } from '../../lib/protocols/dlms/transport-channel';
import { DlmsSimulator } from '../../lib/sim/dlms';
import { within } from '../fixtures/within';

const EK = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
const AK = Buffer.from('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF', 'hex');
const keys = { encryptionKey: EK, authenticationKey: AK };
const CLIENT_TITLE = Buffer.from('4142430000000001', 'hex');

const sims: DlmsSimulator[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlms-client-sim-'));
after(async () => {
  for (const s of sims.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function simulator(): DlmsSimulator {
  const s = new DlmsSimulator({ meterId: 'CROSS01', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000009', 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60 });
  sims.push(s);
  return s;
}

describe('DlmsClient against ems-sim dlms', () => {
  it('LLS over the wrapper: energy in kWh equals the meter, a wrong password is refused by name', async () => {
    const sim = simulator();
    const port = await sim.listenWrapper(0);
    const bad = new DlmsSession({ channel: new WrapperChannel(await openTcpStream('127.0.0.1', port), { client: 0x20, server: 1, timeoutMs: 3000 }), mechanism: 'low', password: Buffer.from('wrong') });
    await assert.rejects(within(bad.open(), 5000, 'the refused LLS association'), /authentication-failure/);

    const session = new DlmsSession({ channel: new WrapperChannel(await openTcpStream('127.0.0.1', port), { client: 0x20, server: 1, timeoutMs: 3000 }), mechanism: 'low', password: Buffer.from('12345678') });
    await within(session.open(), 5000, 'the LLS association');
    const client = new DlmsClient(session, { meter: 'grid-1' });
    const before = Date.now();
    const [energy, power] = await within(client.readRegisters(['1-0:1.8.0.255', '1-0:1.7.0.255']), 5000, 'the register read');
    const afterRead = Date.now();
    assert.equal(energy.unit, 'kWh');
    assert.ok(energy.value >= Math.floor(sim.meter.physics.importWh(before)) / 1000 - 0.001 && energy.value <= sim.meter.physics.importWh(afterRead) / 1000 + 0.001, `energy ${energy.value} kWh`);
    assert.equal(power.unit, 'kW');
    assert.ok(power.value > 0, `power ${power.value}`);
    const clock = await within(client.readClock(), 5000, 'the clock read');
    assert.ok(Math.abs((clock.time ?? 0) - Date.now()) < 5000, `meter clock ${JSON.stringify(clock)}`);
    await within(session.close(), 5000, 'the release');
  });

  it('ciphered HLS-GMAC over HDLC: profile rows of the last two hours agree with the registers at their times; counters survive a restart', async () => {
    const sim = simulator();
    const port = await sim.listenHdlc(0);
    const file = path.join(dir, 'counters.json');
    const open = async () => {
      const channel = new HdlcChannel(await openTcpStream('127.0.0.1', port), { client: clientAddress(0x30), server: serverAddress(1, 17), frameTimeoutMs: 2000 });
      const session = new DlmsSession({ channel, mechanism: 'high-gmac', ciphered: true, systemTitle: CLIENT_TITLE, keys, counters: new FileCounterStore(file) });
      await within(session.open(), 5000, 'the HLS-GMAC association');
      return session;
    };
    const first = await open();
    const client = new DlmsClient(first, { meter: 'grid-2' });
    const now = Date.now();
    const profile = await within(client.readProfile('1-0:99.1.0.255', now - 2 * 3600_000, now), 10_000, 'the profile read');
    assert.ok(profile.rows.length >= 7 && profile.rows.length <= 9, `${profile.rows.length} rows for two hours of 15 minutes`);
    const readings = await client.profileReadings(profile);
    const imports = readings.filter((r) => r.obis === '1-0:1.8.0');
    assert.equal(imports.length, profile.rows.length);
    for (const r of imports) {
      assert.equal(r.time % 900_000, 0, `row time ${new Date(r.time).toISOString()} on a quarter hour`);
      assert.ok(Math.abs(r.value - Math.floor(sim.meter.physics.importWh(r.time)) / 1000) < 0.0015, `profile ${r.value} kWh at ${new Date(r.time).toISOString()}`);
    }
    await within(first.close(), 5000, 'the first release');
    // A restart with the same counter file: the meter refuses any reused counter, so a second association proves none was.
    const second = await open();
    const [energy] = await within(new DlmsClient(second, { meter: 'grid-2' }).readRegisters(['1-0:1.8.0.255']), 5000, 'the read after a restart');
    assert.equal(energy.unit, 'kWh');
    await within(second.close(), 5000, 'the second release');
    // A fresh counter store starts again from 1: the meter must refuse it.
    const channel = new HdlcChannel(await openTcpStream('127.0.0.1', port), { client: clientAddress(0x30), server: serverAddress(1, 17), frameTimeoutMs: 2000 });
    const replay = new DlmsSession({ channel, mechanism: 'high-gmac', ciphered: true, systemTitle: CLIENT_TITLE, keys, counters: new MemoryCounterStore() });
    await assert.rejects(within(replay.open(), 8000, 'the association with reused counters'), /authentication-failure|invocation|refus/i);
  });
});
