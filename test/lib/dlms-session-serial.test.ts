/**
 * HDLC over a serial port: socat (Debian) links a pseudo-terminal to the scripted meter's TCP port, and
 * the client opens the pty with serialport (openSerialStream), as it opens an RS-485 or optical head.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DlmsClient } from '../../lib/protocols/dlms/client';
import { clientAddress, serverAddress } from '../../lib/protocols/dlms/hdlc';
import { DlmsSession } from '../../lib/protocols/dlms/session';
import { openSerialStream } from '../../lib/protocols/dlms/transport';
import { HdlcChannel } from '../../lib/protocols/dlms/transport-channel';
import { ScriptedMeter } from '../fixtures/dlms-scripted-meter';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

const socat = findExecutable('socat', 'EMS_SOCAT');

describe('DLMS HDLC over a serial pty', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let child: ChildProcess | undefined;
  let meter: ScriptedMeter | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dlms-pty-'));
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    await meter?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('associates with LLS and reads a register through the pty', async () => {
    meter = new ScriptedMeter({
      framing: 'hdlc', password: Buffer.from('ABCDEFGH'), maxInfo: 32,
      objects: new Map([
        ['1-0:1.8.0.255/2', { type: 'double-long-unsigned', value: 987654 }],
        ['1-0:1.8.0.255/3', { type: 'structure', items: [{ type: 'integer', value: 1 }, { type: 'enum', value: 30 }] }],
      ]),
    });
    const port = await within(meter.listen(), 5000, 'the scripted meter to listen');
    const tty = path.join(dir, 'ttyDLMS');
    child = spawn(socat as string, ['-d', `pty,raw,echo=0,link=${tty}`, `TCP:127.0.0.1:${port}`], { stdio: 'ignore' });
    await within((async () => { while (!fs.existsSync(tty)) await new Promise((r) => setTimeout(r, 50)); })(), 5000, `socat to create ${tty}`);
    const stream = await within(openSerialStream(tty, { baudRate: 9600 }), 5000, 'the serial port to open');
    const session = new DlmsSession({
      channel: new HdlcChannel(stream, { client: clientAddress(0x20), server: serverAddress(1, 0x11), frameTimeoutMs: 1000, proposed: { maxInfoTransmit: 32, maxInfoReceive: 32 } }),
      mechanism: 'low', password: Buffer.from('ABCDEFGH'),
    });
    await within(session.open(), 8000, 'the LLS association over the pty');
    const readings = await within(new DlmsClient(session, { meter: 'm-serial', now: () => 0 }).readRegisters(['1-0:1.8.0.255']), 5000, 'the register read');
    assert.deepEqual(readings, [{ meter: 'm-serial', time: 0, obis: '1-0:1.8.0', value: 9876.54, unit: 'kWh' }]);
    await within(session.close(), 5000, 'the release over the pty');
  });
});
