// Modbus RTU on a serial port: ems-modbus-meter opens a real pseudo-terminal with serialport; socat
// (Debian) bridges it to the simulator speaking RTU frames over TCP, so every byte crosses a tty.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import modbusClient from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import type { Reading } from '../../lib/model';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');

describe('ems-modbus-meter on a serial RTU bus (pty)', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let sim: ModbusMeterSimulator;
  let bridge: ChildProcess;
  let dir: string;
  let tty: string;

  before(async () => {
    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 7, profile: 'schneider-iem3000' }], framing: 'rtu-over-tcp' });
    const port = await sim.listen(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-rtu-'));
    tty = path.join(dir, 'ttyEMS0');
    bridge = spawn(socat!, ['-d', `pty,raw,echo=0,link=${tty}`, `tcp:127.0.0.1:${port}`], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(tty)) {
      if (Date.now() > deadline) throw new Error('socat did not create the pty');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    bridge?.kill('SIGTERM');
    await sim?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('polls two units of different makes through the serial port', async () => {
    sim.setFixed(1, '1-0:1.8.0', 777.25);
    sim.setFixed(7, '1-0:1.8.0', 4_242_500); // the iEM3000 counts Wh (int64)
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus', type: 'ems-modbus-client', transport: 'rtu', serialPath: tty, baudRate: '19200', parity: 'even', dataBits: '8', stopBits: '1', timeout: '1000', retries: '1', interFrameGap: '5' },
      { id: 'n-a', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'a', unit: '1', profile: 'eastron-sdm630', wires: [['out']] },
      { id: 'n-b', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'b', unit: '7', profile: 'schneider-iem3000', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load([modbusClient, modbusMeter], flow);
    const msgs: any[] = [];
    const both = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.push(m); if (msgs.length === 2) r(); }));
    helper.getNode('n-a').receive({});
    helper.getNode('n-b').receive({});
    await both;
    const energy = (id: string) => (msgs.find((m) => m.topic === id).payload as Reading[]).find((r) => r.obis === '1-0:1.8.0')!.value;
    assert.equal(energy('a'), 777.25);
    assert.equal(energy('b'), 4242.5);
    assert.equal(sim.stats.framingErrors, 0);
  });
});
