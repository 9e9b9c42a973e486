import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import platformNode from '../../nodes/lorawan-platform/lorawan-platform';
import serverNode from '../../nodes/lorawan-platform-server/lorawan-platform-server';

helper.init(require.resolve('node-red'));

describe('ems-lorawan-platform', () => {
  let sim: LorawanPlatformSimulator;
  let port: number;
  before(async () => {
    sim = new LorawanPlatformSimulator();
    port = await sim.listen(0);
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim.close();
  });

  async function load(node: Record<string, unknown>) {
    const flow = [
      { id: 't', type: 'tab' },
      { id: 's', type: 'ems-lorawan-platform-server', url: `http://127.0.0.1:${port}/api/commonInternal.jsp`, utcOffset: '0', timeout: '5000' },
      { id: 'n', z: 't', type: 'ems-lorawan-platform', server: 's', operation: 'realtime', method: '', devEui: '', areaId: '', amount: '', valve: 'close', energyType: '', billDate: '', hours: '24', params: '{}', ...node, wires: [['out']] },
      { id: 'out', z: 't', type: 'helper' },
      { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['err']] },
      { id: 'err', z: 't', type: 'helper' },
    ];
    await helper.load([serverNode, platformNode] as any, flow, { s: { username: 'karly', password: '123456' } });
    const out = new Promise<any>((r) => helper.getNode('out').on('input', r));
    const err = new Promise<any>((r) => helper.getNode('err').on('input', r));
    return { out, err, n: helper.getNode('n') };
  }

  it('tops up a prepaid meter and reports the instruction id', async () => {
    const { out, n } = await load({ operation: 'topup', devEui: '8cf9572000010105', amount: '25' });
    n.receive({ topic: 'x' });
    const msg = await out;
    assert.equal(msg.payload.devEui, '8cf9572000010105');
    assert.equal(msg.payload.amount, '25');
    assert.match(msg.payload.valueId, /^\d+$/);
    assert.equal(sim.platform.byEui('8cf9572000010105')!.balance.toString(), '175');
  });

  it('closes a valve from an ems-prepaid valve command (topic = devEui)', async () => {
    const { out, n } = await load({ operation: 'valve' });
    n.receive({ topic: '8cf9572000010106', payload: { account: '8cf9572000010106', valve: 'close', balance: '-0.80', threshold: '0' } });
    assert.equal((await out).payload.valve, 'close');
    assert.equal(sim.platform.byEui('8cf9572000010106')!.valveState, 0);
  });

  it('calls any method by name with msg.payload as params', async () => {
    const { out, n } = await load({ operation: 'call', method: 'readAllPricesV2' });
    n.receive({});
    assert.deepEqual((await out).payload.data.map((p: any) => p.pricelid), [2, 7, 9, 12, 13]);
  });

  it('polls the EMS meter in msg.meter, keeping msg.poll', async () => {
    const { out, n } = await load({ operation: 'poll' });
    const meter = { _id: 'm-1', name: 'gas', protocol: 'lorawan-platform', ip_address: '127.0.0.1', port, profile: '', number_meter: '8cf9572000010106', password: 'karly:123456' };
    n.receive({ topic: 'm-1', meter, poll: { id: 7 } });
    const msg = await out;
    assert.deepEqual(msg.poll, { id: 7 });
    assert.equal(msg.payload[0].meter, 'm-1');
    assert.equal(msg.payload[0].obis, '7-0:3.0.0');
  });

  it('sends a bad input and a platform refusal to Catch, naming the field or errcode', async () => {
    const a = await load({ operation: 'valve' });
    a.n.receive({ payload: { valve: 'close' } });
    assert.match((await a.err).error.message, /devEui "" must be 16 hexadecimal characters/);
    await helper.unload();
    const b = await load({ operation: 'topup', devEui: '8cf9572000010106', amount: '5' });
    b.n.receive({});
    assert.match((await b.err).error.message, /remotelyTopUp failed: errcode -1: devEui 8cf9572000010106 is a postpaid meter/);
  });
});
