import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import mbusBus from '../../nodes/mbus-bus/mbus-bus';
import mbusMeter, { endpointOf } from '../../nodes/mbus-meter/mbus-meter';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const nextMessage = (id: string) => new Promise<any>((resolve) => helper.getNode(id).once('input', resolve));
const s = (name: string) => findTelegram(name)!;

function flow(port: number, meter: Record<string, unknown>) {
  const f: any[] = [
    { id: 'tab', type: 'tab' },
    { id: 'bus', type: 'ems-mbus-bus', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: '150', retries: '0' },
    { id: 'm1', z: 'tab', type: 'ems-mbus-meter', bus: 'bus', meterId: 'flat-3', address: '3', energyUnit: 'kWh', wires: [['out']], ...meter },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  return f;
}

describe('ems-mbus-meter (simulator over TCP)', () => {
  let sim: MbusSimulator;
  let other: MbusSimulator;
  let port: number;
  let otherPort: number;
  before(async () => {
    sim = new MbusSimulator({ slaves: [
      { primary: 3, sample: s('efe-waterstar') },
      { primary: 4, sample: s('emu-professional'), split: true },
      { primary: 9, sample: s('els-f96-plus'), fault: 'silent' },
    ] });
    port = await sim.listen(0);
    other = new MbusSimulator({ slaves: [{ primary: 1, sample: s('slb-cf-integral') }] });
    otherPort = await other.listen(0);
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
    await other?.close();
  });

  it('reads a water meter by primary address: Readings plus the decoded telegram', async () => {
    await helper.load([mbusBus, mbusMeter], flow(port, {}));
    const out = nextMessage('out');
    helper.getNode('m1').receive({});
    const msg = await out;
    const volume = (msg.payload as Reading[]).find((r) => r.obis === '9-0:1.0.0' && r.quality === undefined)!;
    // libmbus: EFE WaterStar, volume 0x0000014C = 332 l
    assert.deepEqual({ meter: volume.meter, value: volume.value, unit: volume.unit }, { meter: 'flat-3', value: 0.332, unit: 'm3' });
    assert.equal(msg.topic, 'flat-3');
    assert.equal(msg.mbus.telegram.header.id, '04990254');
    assert.equal(msg.mbus.telegram.header.manufacturer, 'EFE');
    assert.equal(msg.mbus.secondary, '04990254C5140006');
    assert.match(msg.mbus.frames[0], /^685151680803/i);
  });

  it('reads a multi-telegram electricity meter, energy in the configured unit', async () => {
    await helper.load([mbusBus, mbusMeter], flow(port, { address: '4', energyUnit: 'MWh' }));
    const out = nextMessage('out');
    helper.getNode('m1').receive({});
    const msg = await out;
    assert.equal(msg.mbus.telegrams, 2);
    const t1 = (msg.payload as Reading[]).find((r) => r.obis === '1-0:1.8.1')!;
    // EMU Professional 375: 84 10 03 54 05 00 00 = tariff 1, 1364 Wh
    assert.equal(t1.unit, 'MWh');
    assert.ok(Math.abs(t1.value - 0.001364) < 1e-12, `got ${t1.value}`);
  });

  it('takes the EMS poll message: msg.meter picks gateway, secondary address and timeout; msg.poll survives', async () => {
    await helper.load([mbusBus, mbusMeter], flow(port, {}));
    const out = nextMessage('out');
    const poll = { id: 'p-1', meter: 'heat-7', due: 1, started: 2 };
    helper.getNode('m1').receive({ topic: 'heat-7', meter: { _id: 'heat-7', ip_address: '127.0.0.1', port: otherPort, connection_address: '11817314', waiting_time: 300 }, poll } as any);
    const msg = await out;
    assert.deepEqual(msg.poll, poll);
    assert.equal(msg.mbus.address, 0xfd);
    assert.equal(msg.mbus.endpoint, `127.0.0.1:${otherPort}`);
    const energy = (msg.payload as Reading[]).find((r) => r.obis === '6-0:1.0.0')!;
    assert.deepEqual({ meter: energy.meter, value: energy.value, unit: energy.unit }, { meter: 'heat-7', value: 0, unit: 'kWh' });
  });

  it('a meter that does not answer reaches Catch with the meter, address and reason; nothing is sent', async () => {
    await helper.load([mbusBus, mbusMeter], flow(port, { address: '9', meterId: 'dead-9' }));
    let sent = 0;
    helper.getNode('out').on('input', () => sent++);
    const caught = nextMessage('caught');
    helper.getNode('m1').receive({ poll: { id: 'p-2' } } as any);
    const err = await caught;
    assert.match(err.error.message, /M-Bus meter "dead-9" at primary address 9 on 127\.0\.0\.1:\d+: no answer from primary address 9 within 150 ms/);
    assert.deepEqual(err.poll, { id: 'p-2' });
    assert.equal(sent, 0);
  });

  it('names a bad address from msg.meter', async () => {
    await helper.load([mbusBus, mbusMeter], flow(port, {}));
    const caught = nextMessage('caught');
    helper.getNode('m1').receive({ meter: { connection_address: '300' } } as any);
    assert.match((await caught).error.message, /msg\.meter\.connection_address "300" must be a primary address 0\.\.250/);
  });

  it('answers msg.backfill with the historic values only (own dates, HISTORIC and BACKFILLED) and names a bad span', async () => {
    await helper.load([mbusBus, mbusMeter], flow(port, {}));
    const out = nextMessage('out');
    // The EFE WaterStar telegram keeps a month-end volume (storage 1, 2012-12-31 per its date record).
    helper.getNode('m1').receive({ topic: 'flat-3', backfill: { from: Date.UTC(2000, 0, 1), to: Date.now() }, poll: { id: 'b1', kind: 'backfill' } } as any);
    const msg = await out;
    assert.ok(msg.payload.length >= 1, JSON.stringify(msg.payload));
    assert.ok(msg.payload.every((r: any) => r.quality === (128 | 256) && r.time < Date.now() - 86_400_000), JSON.stringify(msg.payload));
    assert.equal(msg.backfill.truncated, false);
    assert.equal(msg.poll.id, 'b1');
    const caught = nextMessage('caught');
    helper.getNode('m1').receive({ backfill: { from: 'last week', to: 1 } } as any);
    assert.match((await caught).error.message, /msg\.backfill\.from must be a time in epoch ms, got "last week"/);
  });

  it('ships example flows whose M-Bus nodes load and read the simulator', async () => {
    const dir = path.resolve(__dirname, '..', '..', '..', 'examples');
    const flows = fs.readdirSync(dir).filter((f) => f.startsWith('M-Bus')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as any[]);
    assert.equal(flows.length, 2);
    const read = flows.find((f) => f.some((n) => n.type === 'ems-mbus-meter'))!;
    // keep our nodes (and their tab/config), point the bus at the simulator, wire the meters to a helper
    const mine = read.filter((n) => n.type.startsWith('ems-mbus') || n.type === 'tab').map((n) => {
      if (n.type === 'ems-mbus-bus') return { ...n, port: String(port) };
      if (n.type === 'ems-mbus-meter') return { ...n, wires: [['out']] };
      return n;
    });
    mine.push({ id: 'out', z: mine.find((n) => n.type === 'tab').id, type: 'helper' });
    await helper.load([mbusBus, mbusMeter], mine);
    const msgs: any[] = [];
    const got = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.push(m); if (msgs.length === 1) r(); }));
    helper.getNode('ex-mbus-read-water').receive({});
    await got;
    assert.equal(msgs[0].topic, 'water-flat-1');
    assert.equal(msgs[0].mbus.telegram.header.id, '04990254');
  });
});

describe('ems-mbus-meter: a meter definition\'s endpoint', () => {
  const tcpBus = { kind: 'tcp' as const, host: '10.0.0.2', port: 10001 };
  const serialBus = { kind: 'serial' as const, path: '/dev/ttyUSB0', baudRate: 2400, parity: 'even' as const };
  it('a serial path with serial_line uses that line; without it the bus\'s or 2400 8E1', () => {
    assert.deepEqual(endpointOf({ ip_address: '/dev/ttyUSB1', serial_line: '9600 8E1' }, tcpBus), { kind: 'serial', path: '/dev/ttyUSB1', baudRate: 9600, parity: 'even', dataBits: 8, stopBits: 1 });
    assert.deepEqual(endpointOf({ ip_address: '/dev/ttyUSB1' }, tcpBus), { kind: 'serial', path: '/dev/ttyUSB1', baudRate: 2400, parity: 'even' });
    assert.equal(endpointOf({ ip_address: '/dev/ttyUSB0', serial_line: '2400 8E1' }, serialBus), null, 'the bus itself');
    assert.equal((endpointOf({ ip_address: '/dev/ttyUSB0', serial_line: '300 8E1' }, serialBus) as { baudRate: number }).baudRate, 300, 'the same tty at another baud rate is another line');
    assert.throws(() => endpointOf({ ip_address: '/dev/ttyUSB1', serial_line: '2400 8Q1' }, tcpBus), /serial_line "2400 8Q1" must be/);
  });
});
