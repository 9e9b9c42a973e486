import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import mbusBus from '../../nodes/mbus-bus/mbus-bus';
import mbusScan from '../../nodes/mbus-scan/mbus-scan';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';

helper.init(require.resolve('node-red'));

const s = (name: string) => findTelegram(name)!;

describe('ems-mbus-scan (simulator over TCP)', () => {
  let sim: MbusSimulator;
  let port: number;
  before(async () => {
    sim = new MbusSimulator({ answerDelay: 1, slaves: [
      { primary: 1, sample: s('efe-waterstar'), id: '31000001' },
      { primary: 2, sample: s('efe-waterstar'), id: '31000002' },
      { primary: 3, sample: s('slb-cf-integral') },
    ] });
    port = await sim.listen(0);
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
  });

  const flow = (mode: string): any[] => [
    { id: 'tab', type: 'tab' },
    { id: 'bus', type: 'ems-mbus-bus', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: '25', retries: '0' },
    { id: 'scan', z: 'tab', type: 'ems-mbus-scan', bus: 'bus', mode, wires: [['found'], ['progress']] },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'found', z: 'tab', type: 'helper' },
    { id: 'progress', z: 'tab', type: 'helper' },
  ];

  it('secondary scan: every meter with manufacturer, medium and id, progress on the second output', async () => {
    await helper.load([mbusBus, mbusScan], flow('secondary'));
    const progress: any[] = [];
    helper.getNode('progress').on('input', (m: any) => progress.push(m.payload));
    const found = new Promise<any>((r) => helper.getNode('found').once('input', r));
    helper.getNode('scan').receive({});
    const msg = await found;
    assert.deepEqual(msg.payload.map((m: any) => [m.id, m.manufacturer, m.medium]).sort(), [['11817314', 'SLB', 4], ['31000001', 'EFE', 6], ['31000002', 'EFE', 6]]);
    assert.equal(msg.scan.mode, 'secondary');
    assert.deepEqual(msg.scan.collisions, []);
    assert.ok(progress.length >= 1 && progress.every((p) => p.mode === 'secondary' && typeof p.probes === 'number'));
  });

  it('primary scan with msg.mode; a second scan while one runs is refused', async () => {
    await helper.load([mbusBus, mbusScan], flow('secondary'));
    const found = new Promise<any>((r) => helper.getNode('found').once('input', r));
    const caught = new Promise<any>((r) => helper.getNode('caught').once('input', r));
    helper.getNode('scan').receive({ mode: 'primary' } as any);
    helper.getNode('scan').receive({ mode: 'primary' } as any);
    assert.match((await caught).error.message, /a scan is already running/);
    const msg = await found;
    assert.deepEqual(msg.payload.map((m: any) => [m.primary, m.secondary]), [[1, '31000001C5140006'], [2, '31000002C5140006'], [3, '11817314824D0604']]);
  });

  it('names a bad mode', async () => {
    await helper.load([mbusBus, mbusScan], flow('secondary'));
    const caught = new Promise<any>((r) => helper.getNode('caught').once('input', r));
    helper.getNode('scan').receive({ mode: 'tertiary' } as any);
    assert.match((await caught).error.message, /msg\.mode must be "primary" or "secondary", got "tertiary"/);
  });
});
