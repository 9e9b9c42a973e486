// An iM871A stick over a serial line: socat links two pseudo-terminals; the simulator acts as the stick on
// one end (answers the link mode request, sends its meters' telegrams as HCI receive indications), the
// ems-wmbus node reads the other end at 57600 8N1 as it would /dev/ttyUSB0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import wmbusNode from '../../nodes/wmbus/wmbus';
import { WmbusSimulator, WMBUS_SIM_DEFAULT_KEY } from '../../lib/sim/wmbus';
import type { Reading } from '../../lib/model';
import { openPtyPair, type PtyPair } from '../../lib/sim/serial';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');

async function waitFor(what: string | (() => string), ms: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('wM-Bus iM871A stick over a serial pty pair', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let sim: WmbusSimulator;
  let pair: PtyPair | undefined;
  let dir: string;
  let host: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-wmbus-pty-'));
    pair = await openPtyPair(dir, socat!, ['ttyUSB', 'ttySTICK']);
    host = pair.master;
    const stick = pair.slave;
    sim = new WmbusSimulator({ meters: 3, firstId: '31000001', mode: 'mixed', key: Buffer.from(WMBUS_SIM_DEFAULT_KEY, 'hex'), intervalMs: 300, stick: 'im871a', serial: stick });
    await sim.start();
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
    await pair?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ems-wmbus configures the stick to C1 and decodes the simulated meters\' telegrams with their values', async () => {
    const keys = ['31000001', '31000002', '31000003'].map((id) => `${id}=${WMBUS_SIM_DEFAULT_KEY}`).join(',');
    const flow: any[] = [
      { id: 't', type: 'tab' },
      { id: 'n1', z: 't', type: 'ems-wmbus', meters: '31000001 water-1\n31000002 heat-2\n31000003 gas-3', interval: '0', serial: host, stick: 'im871a', linkMode: 'C1', baud: '', wires: [['out']] },
      { id: 'out', z: 't', type: 'helper' },
    ];
    await helper.load(wmbusNode, flow, { n1: { keys } });
    const statuses: any[] = [];
    (helper.getNode('n1') as any).on('call:status', (c: any) => statuses.push(c.args[0]));
    const byMeter = new Map<string, any>();
    helper.getNode('out').on('input', (m: any) => byMeter.set(m.topic, m));
    await waitFor('telegrams of water-1, heat-2 and gas-3 from the stick', 15_000, () => byMeter.size >= 3);
    await waitFor('the simulated stick to receive the link mode request', 5_000, () => sim.stick!.configRequests.length > 0);
    assert.deepEqual(sim.stick!.configRequests, ['C1']);

    const [water, heat, gas] = sim.meters;
    const value = (topic: string, obis: string) => (byMeter.get(topic).payload as Reading[]).find((r) => r.obis === obis);
    assert.equal(value('water-1', '8-0:1.0.0')?.value, water.litres / 1000);
    assert.equal(value('water-1', '8-0:1.0.0')?.unit, 'm3');
    assert.ok(Math.abs(value('heat-2', '6-0:1.0.0')!.value - heat.kwh) <= 1, `heat ${value('heat-2', '6-0:1.0.0')?.value} kWh vs simulated ${heat.kwh}`);
    assert.equal(value('gas-3', '7-0:3.0.0')?.value, gas.litres / 1000);
    const m = byMeter.get('heat-2');
    assert.equal(m.wmbus.security.mode, 7);
    assert.equal(m.wmbus.rssi, -70);
    assert.equal(m.wmbus.mode, 'C1');
    assert.ok(statuses.some((s) => /im871a .*ttyUSB.*\d+ telegrams/.test(s.text)), JSON.stringify(statuses.slice(-3)));
  });

  it('hex-lines: a bridge printing one rtl-wmbus line per telegram is read at 9600 baud', async () => {
    const bridge = await openPtyPair(dir, socat!, ['ttyBRIDGE', 'ttyLINES']);
    const [a, b] = [bridge.master, bridge.slave];
    const lines = new WmbusSimulator({ meters: 1, firstId: '32000001', mode: 0, key: Buffer.alloc(16), intervalMs: 300, lineFormat: 'rtl-wmbus', out: b });
    try {
      await helper.unload();
      const flow: any[] = [{ id: 't', type: 'tab' }, { id: 'n3', z: 't', type: 'ems-wmbus', meters: '', interval: '0', serial: a, stick: 'hex-lines', wires: [['out']] }, { id: 'out', z: 't', type: 'helper' }];
      await helper.load(wmbusNode, flow);
      const msgs: any[] = [];
      helper.getNode('out').on('input', (m: any) => msgs.push(m));
      await lines.start();
      await waitFor('a decoded telegram from the hex-lines bridge', 10_000, () => msgs.length > 0);
      const r = (msgs[0].payload as Reading[]).find((x) => x.obis === '8-0:1.0.0');
      assert.equal(r?.value, lines.meters[0].litres / 1000);
      assert.equal(msgs[0].topic, 'EMS-32000001');
      assert.equal(msgs[0].wmbus.rssi, -60);
      assert.equal(msgs[0].wmbus.mode, 'T1');
    } finally {
      await lines.close();
      await bridge.close();
    }
  });

  it('a device that cannot be opened is retried with backoff, the status says why, and it is read once it appears', async () => {
    const missing = path.join(dir, 'ttyNONE');
    await helper.unload();
    const flow: any[] = [{ id: 't', type: 'tab' }, { id: 'n2', z: 't', type: 'ems-wmbus', meters: '', interval: '0', serial: missing, stick: 'hex-lines', wires: [[]] }];
    await helper.load(wmbusNode, flow);
    const n2 = helper.getNode('n2') as any;
    const statuses: any[] = [];
    const warnings: string[] = [];
    n2.on('call:status', (c: any) => statuses.push(c.args[0]));
    n2.on('call:warn', (c: any) => warnings.push(String(c.args[0])));
    // The first attempt runs at load (before the spy); retries follow after 1 s, 2 s ...
    await waitFor(() => `two attempts to open the missing device (statuses ${JSON.stringify(statuses)})`, 5_000, () => statuses.filter((s) => /opening/.test(s.text ?? '')).length >= 1 && statuses.filter((s) => /retry in \d/.test(s.text ?? '')).length >= 2);
    assert.ok(statuses.some((s) => s.fill === 'red' && /ttyNONE: cannot open: .*; retry in 2 s/.test(s.text)), JSON.stringify(statuses.slice(-2)));
    assert.ok(warnings.some((w) => w.includes(`cannot open serial port ${missing}`)), warnings.join('; '));
    assert.equal(warnings.length, 1, 'the same reason is warned about once');

    // The device appears (the stick is plugged in): the next attempt opens it and telegrams flow.
    const plugged = await openPtyPair(dir, socat!, ['ttyNONE', 'ttyPLUGGED']);
    const lines = new WmbusSimulator({ meters: 1, firstId: '33000001', mode: 0, key: Buffer.alloc(16), intervalMs: 300, out: plugged.slave });
    try {
      await lines.start();
      await waitFor(() => `a telegram after the device appeared (last status ${JSON.stringify(statuses.at(-1))})`, 12_000, () => statuses.some((x) => /EMS 33000001|EMS-33000001/.test(x.text ?? '')));
    } finally {
      await helper.unload();
      await lines.close();
      await plugged.close();
    }
  });
});
