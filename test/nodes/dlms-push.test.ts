/**
 * ems-dlms-push in a real Node-RED runtime against `ems-sim dlms` pushing: over TCP (the simulator
 * connects to the node listening, as a meter's push setup does) and out of its serial pty (socat),
 * ciphered; a wrong key reaches Catch; a bad configuration shows a red status.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import pushNode from '../../nodes/dlms-push/dlms-push';
import net from 'node:net';
import { DlmsSimulator } from '../../lib/sim/dlms';
import { SimPusher } from '../../lib/sim/dlms/push';
import { openPtyPair, type PtyPair } from '../../lib/sim/serial';
import type { Reading } from '../../lib/model';
import { freePort } from '../fixtures/services';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));

const EK = '000102030405060708090A0B0C0D0E0F';
const AK = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
const TITLE = '454D530000000009';
const socat = findExecutable('socat', 'EMS_SOCAT');

const simulator = () => new DlmsSimulator({
  meterId: 'PUSH0001', password: Buffer.from('12345678'), systemTitle: Buffer.from(TITLE, 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60,
  keys: { encryptionKey: Buffer.from(EK, 'hex'), authenticationKey: Buffer.from(AK, 'hex') },
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The energy the simulator's meter had at the push time, kWh (the push carries whole Wh). */
function checkEnergy(sim: DlmsSimulator, msg: { payload: Reading[]; push: { time: string } }): void {
  const t = Date.parse(msg.push.time);
  const e = msg.payload.find((r) => r.obis === '1-0:1.8.0')!;
  assert.equal(e.unit, 'kWh');
  assert.equal(e.time, t);
  assert.ok(Math.abs(e.value - sim.meter.physics.importWh(t) / 1000) < 0.002, `${e.value} kWh at ${msg.push.time}`);
  assert.ok(Math.abs(t - Date.now()) < 10_000, 'the push time is the meter clock, now');
  const v = msg.payload.find((r) => r.obis === '1-0:32.7.0')!;
  assert.ok(v.unit === 'V' && v.value > 220 && v.value < 240, `${v.value} ${v.unit}`);
}

describe('ems-dlms-push', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  const node = (extra: object) => ({ id: 'n1', z: 't', type: 'ems-dlms-push', name: '', meterId: 'grid', mode: 'listen', host: '127.0.0.1', port: '1', baud: '2400', framing: 'auto', timeZone: 'Europe/Oslo', systemTitle: '', wires: [['out']], ...extra });

  it('listens for the simulator pushing authenticated and encrypted HDLC telegrams over TCP and sends readings', async () => {
    const port = await freePort();
    const flow: any[] = [{ id: 't', type: 'tab' }, node({ port: String(port) }), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(pushNode, flow, { n1: { key: EK, authKey: AK } });
    const msgs: any[] = [];
    helper.getNode('out').on('input', (m: any) => msgs.push(m));
    const sim = simulator();
    sim.startPush({ intervalMs: 200, framing: 'hdlc', cipher: 'authenticated', to: { host: '127.0.0.1', port } });
    try {
      await until(() => msgs.length >= 2, 'two pushes');
      const [a, b] = msgs;
      assert.equal(a.topic, 'grid');
      assert.deepEqual([a.push.type, a.push.framing, a.push.systemTitle, a.push.securityControl, a.push.timeSource], ['data-notification', 'hdlc', TITLE, 0x30, 'notification']);
      assert.equal(b.push.invocationCounter, a.push.invocationCounter + 1);
      checkEnergy(sim, a);
      assert.deepEqual(a.payload.map((r: Reading) => r.obis).sort(), ['1-0:1.7.0', '1-0:1.8.0', '1-0:2.7.0', '1-0:2.8.0', '1-0:32.7.0']);
      const n1 = helper.getNode('n1') as any;
      const green = (n1.status.args as [{ fill?: string; text?: string }][]).map(([s]) => s).filter((s) => s.fill === 'green');
      assert.ok(green.length >= 2, 'a green status per push');
      assert.match(String(green[green.length - 1].text), /^\d\d:\d\d:\d\dZ, \d+ pushes, 0 errors$/);
    } finally {
      await sim.close();
    }
  });

  it('reports a wrong key to Catch with the meter named and the key nowhere, and sends nothing', async () => {
    const port = await freePort();
    const flow: any[] = [
      { id: 't', type: 'tab' }, node({ port: String(port) }), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    const wrongKey = 'FFEEDDCCBBAA99887766554433221100';
    await helper.load(pushNode, flow, { n1: { key: wrongKey, authKey: AK } });
    let sent = 0;
    helper.getNode('out').on('input', () => { sent++; });
    const caught = new Promise<any>((r) => helper.getNode('caught').on('input', r));
    const sim = simulator();
    sim.startPush({ intervalMs: 200, framing: 'wrapper', cipher: 'authenticated', to: { host: '127.0.0.1', port } });
    try {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 10000 ms waiting for the Catch node')), 10_000));
      const msg = await Promise.race([caught, timeout]);
      assert.match(msg.error.message, /^meter "grid": dlms: authentication tag does not match/);
      assert.equal(msg.topic, 'grid');
      assert.doesNotMatch(JSON.stringify(msg), new RegExp(`${wrongKey}|${AK}|${EK}`, 'i'));
      assert.equal(sent, 0);
    } finally {
      await sim.close();
    }
  });

  it('refuses a replayed push (same invocation counter) and reports it to Catch; the counter is kept in the node context', async () => {
    const port = await freePort();
    const flow: any[] = [
      { id: 't', type: 'tab' }, node({ port: String(port) }), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(pushNode, flow, { n1: { key: EK, authKey: AK } });
    const msgs: any[] = [];
    helper.getNode('out').on('input', (m: any) => msgs.push(m));
    const caught = new Promise<any>((r) => helper.getNode('caught').on('input', r));
    const sim = simulator();
    const pusher = new SimPusher({ intervalMs: 60_000, framing: 'hdlc', cipher: 'authenticated' }, {
      physics: sim.meter.physics, meterNow: () => Date.now(), utcOffsetMinutes: 60, offline: () => false,
      keys: { encryptionKey: Buffer.from(EK, 'hex'), authenticationKey: Buffer.from(AK, 'hex') }, systemTitle: Buffer.from(TITLE, 'hex'),
    });
    const telegram = pusher.telegram();
    const socket = net.connect({ host: '127.0.0.1', port });
    try {
      await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
      socket.write(telegram);
      await until(() => msgs.length === 1, 'the first push');
      socket.write(telegram);
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 10000 ms waiting for the replay error')), 10_000));
      const msg = await Promise.race([caught, timeout]);
      assert.match(msg.error.message, /^meter "grid": invocation counter \d+ of system title 454D530000000009 is not above the last accepted \(\d+\): replayed push refused/);
      assert.equal(msgs.length, 1);
      const ctx = (helper.getNode('n1') as any).context().get('counters');
      assert.deepEqual(ctx, { [TITLE]: msgs[0].push.invocationCounter });
    } finally {
      socket.destroy();
      await sim.close();
    }
  });

  it('shows a red status for a bad port and an unknown time zone', async () => {
    for (const extra of [{ port: 'x' }, { port: '4070', timeZone: 'Mars/Base' }, { port: '4070', framing: 'p1' }]) {
      const flow: any[] = [{ id: 't', type: 'tab' }, node(extra), { id: 'out', z: 't', type: 'helper' }];
      await helper.load(pushNode, flow);
      const n1 = helper.getNode('n1') as any;
      assert.ok(n1.status.calledWithMatch({ fill: 'red', text: 'ems-dlms-push.status.bad-config' }), JSON.stringify(extra));
      await helper.unload();
    }
  });

  describe('over a serial pty', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
    let pair: PtyPair | undefined;
    let dir: string;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dlms-push-'));
      pair = await openPtyPair(dir, socat!, ['ttyEMS', 'ttyMETER']);
    });
    after(async () => {
      await pair?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reads encrypted M-Bus-framed pushes (an Austrian customer port) from the simulator\'s serial line', async () => {
      const flow: any[] = [{ id: 't', type: 'tab' }, node({ mode: 'serial', host: pair!.master, baud: '2400', framing: 'mbus' }), { id: 'out', z: 't', type: 'helper' }];
      await helper.load(pushNode, flow, { n1: { key: EK } });
      const msgs: any[] = [];
      helper.getNode('out').on('input', (m: any) => msgs.push(m));
      const sim = simulator();
      try {
        await sim.openSerial(pair!.slave, 2400);
        sim.startPush({ intervalMs: 300, framing: 'mbus', cipher: 'encrypted', serial: true });
        await until(() => msgs.length >= 2, 'two pushes over the pty');
        assert.deepEqual([msgs[0].push.framing, msgs[0].push.securityControl], ['mbus', 0x20]);
        checkEnergy(sim, msgs[1]);
      } finally {
        await sim.close();
      }
    });
  });
});
