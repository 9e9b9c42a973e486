import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import modbusClient, { parseClientConfig, type ModbusClientDef } from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { freePort } from '../e2e/runtime';

helper.init(require.resolve('node-red'));

const def = (over: Partial<ModbusClientDef>) => ({ id: 'x', type: 'ems-modbus-client', name: '', z: '', transport: 'tcp', host: '10.0.0.5', port: '502', ...over } as ModbusClientDef);

describe('ems-modbus-client', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  it('reads its settings with sensible defaults', () => {
    assert.deepEqual(parseClientConfig(def({})), {
      endpoint: { transport: 'tcp', host: '10.0.0.5', port: 502 },
      options: { timeout: 1000, retries: 1, queueLimit: 256 },
    });
    const serial = parseClientConfig(def({ transport: 'rtu', serialPath: '/dev/ttyUSB0', baudRate: '2400', parity: 'even' }));
    assert.deepEqual(serial.endpoint, { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 2400, parity: 'even', dataBits: 8, stopBits: 1 });
    assert.equal(serial.options.interFrameGap, undefined, 'no fixed gap: the bus derives t3.5 from the baud rate');
    assert.deepEqual([serial.options.baudRate, serial.options.bitsPerChar], [2400, 11], '8E1: 11 bits a character');
  });

  it('refuses bad settings naming the field and value', () => {
    assert.throws(() => parseClientConfig(def({ port: '70000' })), /port must be an integer 1..65535, got "70000"/);
    assert.throws(() => parseClientConfig(def({ transport: 'udp' as never })), /transport must be tcp, rtu-over-tcp or rtu, got "udp"/);
    assert.throws(() => parseClientConfig(def({ transport: 'rtu', serialPath: '' })), /serialPath is required/);
    assert.throws(() => parseClientConfig(def({ timeout: 'soon' })), /timeout must be an integer 10..60000, got "soon"/);
  });

  it('shares one link between two config nodes naming the same endpoint', async () => {
    const flow: any[] = [
      { id: 'a', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: '1502' },
      { id: 'b', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: '1502' },
      { id: 'c', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: '1503' },
    ];
    await helper.load(modbusClient, flow);
    const bus = (id: string) => (helper.getNode(id) as any).bus;
    assert.equal(bus('a'), bus('b'));
    assert.notEqual(bus('a'), bus('c'));
  });

  it('shows the link state on its meters: red when the gateway cannot be reached', async () => {
    const port = await freePort(); // nothing listens there
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: String(port) },
      { id: 'm1', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'm', unit: '1', profile: 'eastron-sdm120', wires: [[]] },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await helper.load([modbusClient, modbusMeter], flow);
    const m1 = helper.getNode('m1');
    const statuses: any[] = [];
    const original = m1.status.bind(m1);
    m1.status = (s: any) => { statuses.push(s); return original(s); };
    const caught = new Promise<any>((r) => helper.getNode('caught').once('input', r));
    m1.receive({});
    await caught;
    assert.ok(statuses.some((s) => s.text === 'ems-modbus-client.status.connecting' && s.fill === 'yellow'), JSON.stringify(statuses));
    assert.ok(statuses.some((s) => s.text === 'ems-modbus-client.status.disconnected' && s.fill === 'red'), JSON.stringify(statuses));
  });

  it('logs a bad configuration naming the field, and its meters refuse to start', async () => {
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: 'abc' },
      { id: 'm1', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'm', unit: '1', profile: 'eastron-sdm120', wires: [[]] },
    ];
    await helper.load([modbusClient, modbusMeter], flow);
    const errors = helper.log().args.flat().filter((e: any) => e && e.level === 20).map((e: any) => `${e.id}: ${e.msg}`);
    assert.ok(errors.some((e: string) => e === 'bus: port must be an integer 1..65535, got "abc"'), errors.join('\n'));
    assert.ok(errors.some((e: string) => e === 'm1: meter "m": no valid Modbus connection (client) is configured'), errors.join('\n'));
  });
});
