// M-Bus on a serial port: the nodes open a real pseudo-terminal with serialport (2400 8E1); socat
// (Debian) bridges it to the simulated bus, so every byte crosses a tty.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import mbusBus from '../../nodes/mbus-bus/mbus-bus';
import mbusMeter from '../../nodes/mbus-meter/mbus-meter';
import mbusScan from '../../nodes/mbus-scan/mbus-scan';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';
import type { Reading } from '../../lib/model';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');
const s = (name: string) => findTelegram(name)!;

describe('M-Bus nodes on a serial port (pty via socat)', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let sim: MbusSimulator;
  let dir: string;
  let tty: string;

  before(async () => {
    sim = new MbusSimulator({ answerDelay: 1, slaves: [
      { primary: 1, sample: s('slb-cf-integral'), id: '11817314' },
      { primary: 2, sample: s('efe-waterstar'), id: '11817315' },
      { primary: 5, sample: s('emu-professional') },
    ] });
    await sim.listen(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-mbus-'));
    tty = await sim.openPty(path.join(dir, 'ttyMBUS0'), socat!);
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads two meters and scans the bus through the serial port', async () => {
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus', type: 'ems-mbus-bus', transport: 'serial', serialPath: tty, baudRate: '9600', parity: 'even', timeout: '60', retries: '1' },
      { id: 'n-heat', z: 'tab', type: 'ems-mbus-meter', bus: 'bus', meterId: 'heat', address: '1', wires: [['out']] },
      { id: 'n-water', z: 'tab', type: 'ems-mbus-meter', bus: 'bus', meterId: 'water', address: '11817315', wires: [['out']] },
      { id: 'scan', z: 'tab', type: 'ems-mbus-scan', bus: 'bus', mode: 'secondary', wires: [['found'], []] },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'found', z: 'tab', type: 'helper' },
    ];
    await helper.load([mbusBus, mbusMeter, mbusScan], flow);
    const errors: string[] = [];
    helper.getNode('caught').on('input', (m: any) => errors.push(m.error.message));
    const msgs: any[] = [];
    const both = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.push(m); if (msgs.length === 2) r(); }));
    helper.getNode('n-heat').receive({});
    helper.getNode('n-water').receive({});
    await both;
    const value = (id: string, obis: string) => (msgs.find((m) => m.topic === id).payload as Reading[]).find((r) => r.obis === obis && r.quality === undefined)!;
    assert.equal(value('heat', '6-0:1.0.0').unit, 'kWh');
    assert.equal(value('water', '9-0:1.0.0').value, 0.332);
    assert.equal(msgs.find((m) => m.topic === 'water').mbus.endpoint, `${tty} 9600 8E1`);

    const found = new Promise<any>((r) => helper.getNode('found').once('input', r));
    helper.getNode('scan').receive({});
    const scan = await found;
    assert.deepEqual(scan.payload.map((m: any) => m.id).sort(), ['00032629', '11817314', '11817315']);
    assert.deepEqual(errors, []);
    assert.equal(sim.stats.badFrames, 0, 'every request crossed the tty intact');
  });
});
