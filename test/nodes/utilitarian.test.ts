import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import serverNode from '../../nodes/utilitarian-server/utilitarian-server';
import utilNode from '../../nodes/utilitarian/utilitarian';
import { UtilitarianSimulator, DEFAULT_TOKEN } from '../../lib/sim/utilitarian';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const nextMessage = (id: string) => new Promise<any>((resolve) => helper.getNode(id).once('input', resolve));
const T0 = Date.parse('2026-03-01T00:00:00Z');

function flow(url: string, node: Record<string, unknown>, server: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'ems-utilitarian-server', url, tokenEnv: 'UTIL_TEST_TOKEN', ...server },
    { id: 'u', z: 'tab', type: 'ems-utilitarian', server: 'srv', operation: 'push', unknown: 'create', wires: [['out']], ...node },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
}

describe('ems-utilitarian', () => {
  let sim: UtilitarianSimulator;
  let url: string;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(async () => {
    sim = new UtilitarianSimulator();
    url = `http://127.0.0.1:${await sim.listen(0)}/v1`;
    process.env.UTIL_TEST_TOKEN = DEFAULT_TOKEN;
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('pushes EMS readings (token from the env var), then pulls them back equal', async () => {
    await helper.load([serverNode, utilNode], flow(url, {}));
    const readings: Reading[] = [
      { meter: 'main-incomer', time: T0, obis: '1-0:1.8.0', value: 1520.25, unit: 'kWh' },
      { meter: 'main-incomer', time: T0 + 10_000, obis: '1-0:1.8.0', value: 1520.5, unit: 'kWh' },
    ];
    const out = nextMessage('out');
    helper.getNode('u').receive({ payload: readings, meter: { _id: 'main-incomer', protocol: 'modbus-tcp' }, poll: { id: 7 } } as any);
    const msg = await out;
    assert.deepEqual(msg.payload, readings);
    assert.deepEqual(msg.poll, { id: 7 });
    assert.deepEqual(msg.utilitarian, { operation: 'push', readings: 2, staged: 0, devicesCreated: ['main-incomer'], seriesCreated: ['1.0.1.8.0.255'] });
    const pulled = nextMessage('out');
    helper.getNode('u').receive({ operation: 'pull', device: 'main-incomer', from: T0 } as any);
    assert.deepEqual((await pulled).payload, readings);
  });

  it('create, get, update and list devices; any path; events; invoke', async () => {
    await helper.load([serverNode, utilNode], flow(url, { operation: 'create-device' }));
    const send = async (m: Record<string, unknown>) => { const p = nextMessage('out'); helper.getNode('u').receive(m as any); return p; };
    const created = await send({ payload: { name: 'EL-7', protocol: 'iec62056-21', iec62056_21_address: '12345678' } });
    assert.equal(created.payload.iec62056_21_address, '12345678');
    assert.equal((await send({ operation: 'get-device', device: 'EL-7' })).payload.id, created.payload.id);
    assert.equal((await send({ operation: 'update-device', device: 'EL-7', payload: { manufacturer_serial: 'S-1' } })).payload.manufacturer_serial, 'S-1');
    assert.deepEqual((await send({ operation: 'list-devices', filter: { manufacturer_serial: 'S-1' } })).payload.map((d: any) => d.name), ['EL-7']);
    const sims = await send({ operation: 'request', method: 'POST', path: '/metering/sim-cards', payload: { iccid: '8946000000000000001', imsi: '240010000000001' } });
    assert.equal(sims.payload.iccid, '8946000000000000001');
    assert.equal((await send({ operation: 'request', method: 'GET', path: '/metering/sim-cards' })).payload.count, 1);
    assert.deepEqual((await send({ operation: 'invoke', payload: { meter_device: created.payload.id, task_call: 'set_time', meter_execution_type: 'generic_iec6205621' } })).payload, { invoked: true });
    assert.deepEqual((await send({ operation: 'events', meter_device: created.payload.id })).payload.map((e: any) => e.title), ['set_time']);
  });

  it('reports errors once through Catch, naming the field, and sends nothing', async () => {
    await helper.load([serverNode, utilNode], flow(url, { operation: 'create-device' }));
    let sent = 0;
    helper.getNode('out').on('input', () => { sent++; });
    const caught = nextMessage('caught');
    helper.getNode('u').receive({ payload: { name: 'x', protocol: 'zigbee' } } as any);
    const c = await caught;
    assert.match(c.error.message, /refused before sending POST \/metering\/meter-devices: protocol: "zigbee" is not a valid choice\./);
    const caught2 = nextMessage('caught');
    helper.getNode('u').receive({ operation: 'pull', device: 'nope' } as any);
    assert.match((await caught2).error.message, /device: no meter device named "nope"/);
    const caught3 = nextMessage('caught');
    helper.getNode('u').receive({ operation: 'push', payload: [{ meter: 'm', time: 'x' }] } as any);
    assert.match((await caught3).error.message, /payload\[0\]/);
    assert.equal(sent, 0);
  });

  for (const blank of ['', '${EMS_UTILITARIAN_URL_UNSET}']) it(`with the URL ${JSON.stringify(blank)}: status "not configured", messages pass on quietly, nothing is sent`, async () => {
    await helper.load([serverNode, utilNode], flow(blank, {}));
    const n = helper.getNode('u') as any;
    let errors = 0;
    helper.getNode('caught').on('input', () => { errors++; });
    const out = nextMessage('out');
    n.receive({ payload: [{ meter: 'a', time: T0, obis: '1-0:1.8.0', value: 1, unit: 'kWh' }] });
    assert.equal((await out).payload.length, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(errors, 0);
    assert.equal(sim.requests.length, 0);
  });
});
