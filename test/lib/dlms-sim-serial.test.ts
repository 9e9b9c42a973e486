/** `ems-sim dlms` on a serial line: socat links two pseudo-terminals, the simulator serves HDLC on one, the scripted client talks on the other. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerReading, scalerUnitOf } from '../../lib/protocols/dlms/cosem';
import { dateTimeToEpochMs, decodeDateTime, dateTimeFromEpochMs, encodeDateTime } from '../../lib/protocols/dlms/axdr';
import { DlmsSimulator } from '../../lib/sim/dlms';
import { openLinePort, openPtyPair, parseLine, type PtyPair } from '../../lib/sim/serial';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { AK, CLIENT_TITLE, EK, ScriptedClient } from './dlms-server-client';
import { HdlcTestClient, type ByteStream } from './dlms-sim-transport';

const socat = findExecutable('socat', 'EMS_SOCAT');
const keys = { encryptionKey: EK, authenticationKey: AK };

describe('ems-sim dlms over HDLC on a pty pair', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let sim: DlmsSimulator;
  let pair: PtyPair | undefined;
  let dir: string;
  let line: ByteStream | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dlms-pty-'));
    pair = await openPtyPair(dir, socat!, ['ttyEMS', 'ttyMETER']);
    sim = new DlmsSimulator({ meterId: 'PTY0001', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000003', 'hex'), logical: 1, physical: 17, maxInfo: 128 });
    await sim.openSerial(pair.slave, 9600);
    line = await openLinePort(pair.master, parseLine('8N1', 9600));
  });

  after(async () => {
    await line?.close();
    await sim?.close();
    await pair?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('connects, associates with HLS-GMAC ciphered, reads energy in segments and sets the clock', async () => {
    const h = new HdlcTestClient(line!, { client: 0x30, proposed: { maxInfoTransmit: 128, maxInfoReceive: 128 } }, 500, 8);
    assert.equal((await h.connect())?.type, 'connected');
    const c = new ScriptedClient(h.send, { mechanism: 'high-gmac', systemTitle: CLIENT_TITLE, keys, ciphered: true });
    await c.associate();
    const at = Date.now();
    const r = registerReading('m', '1-0:1.8.0.255', await c.value(3, '1-0:1.8.0.255', 2), scalerUnitOf(await c.value(3, '1-0:1.8.0.255', 3)), at);
    assert.ok(Math.abs(r.value - sim.meter.physics.importWh(at) / 1000) < 0.01, `${r.value} kWh`);
    const list = await c.value(15, '0-0:40.0.0.255', 2);
    assert.ok(list.type === 'array' && list.items.length >= 12);
    const target = Date.now() + 3600_000;
    assert.equal(await c.set(8, '0-0:1.0.0.255', 2, { type: 'octet-string', value: encodeDateTime(dateTimeFromEpochMs(target, 60)) }), 0);
    const clock = await c.value(8, '0-0:1.0.0.255', 2);
    const t = dateTimeToEpochMs(decodeDateTime((clock as { value: Buffer }).value)) as number;
    assert.ok(Math.abs(t - target) < 5000, `clock ${t - target} ms off the time set`);
    assert.equal((await h.disconnect())?.type, 'disconnected');
  });
});
