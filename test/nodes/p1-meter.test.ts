import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import p1Node from '../../nodes/p1-meter/p1-meter';
import { P1Simulator } from '../../lib/sim/p1';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const KEY = '000102030405060708090A0B0C0D0E0F';

describe('ems-p1-meter', () => {
  let sim: P1Simulator;
  let port: number;
  let crcSim: P1Simulator;
  let crcPort: number;
  let encSim: P1Simulator;
  let encPort: number;

  before(async () => {
    sim = new P1Simulator({ version: '5', intervalMs: 150, speed: 60 });
    port = await sim.listen(0);
    crcSim = new P1Simulator({ version: '5', intervalMs: 150, fault: 'crc' });
    crcPort = await crcSim.listen(0);
    encSim = new P1Simulator({ version: '5', intervalMs: 150, key: KEY });
    encPort = await encSim.listen(0);
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await Promise.all([sim.close(), crcSim.close(), encSim.close()]);
  });

  const node = (p: number, extra: object = {}) => ({ id: 'n1', z: 't', type: 'ems-p1-meter', name: '', meterId: 'home', host: '127.0.0.1', port: String(p), dsmr: '4', timeZone: '', interval: '0', wires: [['out']], ...extra });
  const until = async (cond: () => boolean, what: string) => {
    const end = Date.now() + 10_000;
    while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 20)); }
  };

  it('sends one message per telegram with canonical readings and the telegram summary', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, node(port), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(p1Node, flow);
    const msgs: any[] = [];
    helper.getNode('out').on('input', (m: any) => msgs.push(m));
    await until(() => msgs.length >= 2, 'two messages');
    const msg = msgs[0];
    assert.equal(msg.topic, 'home');
    const r = msg.payload as Reading[];
    const t1 = r.find((x) => x.obis === '1-0:1.8.1')!;
    assert.deepEqual([t1.meter, t1.unit], ['home', 'kWh']);
    assert.ok(Math.abs(t1.time - Date.now()) < 5000);
    const gas = r.find((x) => x.obis === '7-1:3.0.0')!;
    assert.equal(gas.unit, 'm3');
    assert.equal(gas.time % 300_000, 0, 'the gas value keeps its own 5-minute stamp');
    assert.deepEqual([msg.telegram.version, msg.telegram.equipmentId, msg.telegram.crc.ok, msg.telegram.header], ['5.0', 'E0012345678901234', true, 'SIM5\\2P1-SIMULATOR']);
    assert.equal(msg.telegram.powerFailureLog.length, 2);
  });

  it('reports CRC errors to Catch with the meter named, and sends nothing', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' }, node(crcPort),
      { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(p1Node, flow);
    let sent = 0;
    helper.getNode('out').on('input', () => { sent++; });
    const caught = await new Promise<any>((r) => helper.getNode('caught').on('input', r));
    assert.match(caught.error.message, /^meter "home": CRC error: expected [0-9A-F]{4} \(computed over '\/' to '!'\), got [0-9A-F]{4}/);
    assert.equal(caught.topic, 'home');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(sent, 0);
    const n1 = helper.getNode('n1') as any;
    assert.ok(n1.status.calledWithMatch({ fill: 'red', text: 'ems-p1-meter.status.crc' }), 'red CRC status');
  });

  it('decrypts with the key credential; a wrong key is a clear error', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, node(encPort), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(p1Node, flow, { n1: { key: KEY } });
    const msg = await new Promise<any>((r) => helper.getNode('out').on('input', r));
    assert.equal(msg.telegram.systemTitle, 'SIMP1MTR');
    assert.ok(msg.payload.some((x: Reading) => x.obis === '1-0:1.8.1'));
    await helper.unload();

    const bad: any[] = [
      { id: 't', type: 'tab' }, node(encPort), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(p1Node, bad, { n1: { key: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' } });
    const caught = await new Promise<any>((r) => helper.getNode('caught').on('input', r));
    assert.match(caught.error.message, /meter "home": decryption failed for system title SIMP1MTR: the GCM tag does not match, so the key is wrong/);
  });

  it('an encrypted meter read without a key: the error says the key is missing', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' }, node(encPort), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(p1Node, flow);
    const caught = await new Promise<any>((r) => helper.getNode('caught').on('input', r));
    assert.match(caught.error.message, /meter "home": (not a plain telegram: binary byte .* needs its decryption key|32 KiB received without a complete telegram .* needs its key)/);
  });

  it('sends at most one message per interval', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, node(port, { interval: '60' }), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(p1Node, flow);
    let n = 0;
    helper.getNode('out').on('input', () => { n++; });
    await until(() => n >= 1, 'the first message');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(n, 1);
  });

  it('reports a bridge that refuses connections and closes its connection on close', async () => {
    const dead = new P1Simulator({ intervalMs: 1000 });
    const deadPort = await dead.listen(0);
    await dead.close(); // the port is free again: connections are refused
    const flow: any[] = [
      { id: 't', type: 'tab' }, node(deadPort), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(p1Node, flow);
    const caught = await new Promise<any>((r) => helper.getNode('caught').on('input', r));
    assert.match(caught.error.message, new RegExp(`meter "home": 127.0.0.1:${deadPort}: .*ECONNREFUSED`));
    await helper.unload();

    const live: any[] = [{ id: 't', type: 'tab' }, node(port), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(p1Node, live);
    await until(() => sim.clients === 1, 'the connection');
    await helper.unload();
    await until(() => sim.clients === 0, 'the connection to close');
  });

  it('flags a missing host or a bad port', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, node(port, { port: '99999' })];
    await helper.load(p1Node, flow);
    const n1 = helper.getNode('n1') as any;
    assert.ok(n1.error.calledWithMatch(/port "99999" must be 1..65535/));
  });

  it('runs the shipped example: the change node picks power, tariff and gas', async () => {
    const file = path.resolve(__dirname, '../../../examples/P1 - DSMR smart meter over a TCP bridge.json');
    const flow: any[] = JSON.parse(fs.readFileSync(file, 'utf8'));
    const meter = flow.find((n) => n.type === 'ems-p1-meter');
    Object.assign(meter, { port: String(port), interval: '0' });
    flow.find((n) => n.id === 'p1x-summary').wires = [['p1x-summary-debug', 'probe']];
    flow.push({ id: 'probe', z: 'p1x-tab', type: 'helper' });
    const change = require('@node-red/nodes/core/function/15-change.js');
    const debug = require('@node-red/nodes/core/common/21-debug.js');
    await helper.load([p1Node, change, debug], flow);
    const msg = await new Promise<any>((r) => helper.getNode('probe').on('input', r));
    assert.equal(typeof msg.payload.power_kW, 'number');
    assert.ok([1, 2].includes(msg.payload.tariff));
    assert.ok(msg.payload.gas_m3 > 1500);
    assert.equal(msg.payload.dsmr, '5.0');
  });

  it('answers an EMS poll (msg.meter) with the latest telegram of the port it names', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, node(0, { host: '', port: '' }), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(p1Node, flow);
    const got = new Promise<any>((r) => helper.getNode('out').on('input', r));
    const pollMsg = { id: 'p1', meter: 'flat-7' };
    helper.getNode('n1').receive({ meter: { _id: 'flat-7', protocol: 'p1', ip_address: '127.0.0.1', port, waiting_time: 5000 }, poll: pollMsg } as any);
    const msg = await got;
    assert.deepEqual(msg.poll, pollMsg);
    assert.equal(msg.topic, 'flat-7');
    assert.ok(msg.payload.every((r: Reading) => r.meter === 'flat-7'));
    assert.ok(msg.payload.some((r: Reading) => r.obis === '7-1:3.0.0'));
    // A second poll reuses the open connection and its latest telegram.
    const again = new Promise<any>((r) => helper.getNode('out').on('input', r));
    helper.getNode('n1').receive({ meter: { _id: 'flat-7', ip_address: '127.0.0.1', port } } as any);
    assert.equal((await again).topic, 'flat-7');
    assert.equal(sim.clients, 1);
  });

  it('a poll that gets no telegram goes to Catch naming the port and why', async () => {
    const dead = new P1Simulator({ intervalMs: 1000 });
    const deadPort = await dead.listen(0);
    await dead.close();
    const flow: any[] = [
      { id: 't', type: 'tab' }, node(0, { host: '', port: '' }),
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(p1Node, flow);
    const caught = new Promise<any>((r) => helper.getNode('caught').on('input', r));
    helper.getNode('n1').receive({ meter: { _id: 'gone', ip_address: '127.0.0.1', port: deadPort, waiting_time: 600 } } as any);
    const err = (await caught).error.message;
    assert.match(err, new RegExp(`meter "gone": no telegram from 127.0.0.1:${deadPort} within 600 ms \\(.*ECONNREFUSED`));
    const bad = new Promise<any>((r) => helper.getNode('caught').on('input', r));
    helper.getNode('n1').receive({ meter: { _id: 'x', ip_address: '127.0.0.1', port: 'abc' } } as any);
    assert.match((await bad).error.message, /meter "x": port \(msg.meter.port\) "abc" must be 1..65535/);
  });
});
