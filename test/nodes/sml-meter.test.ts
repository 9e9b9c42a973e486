import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import smlNode from '../../nodes/sml-meter/sml-meter';
import { SmlSimulator } from '../../lib/sim/sml';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('ems-sml-meter', () => {
  let sim: SmlSimulator;
  let port: number;

  before(async () => {
    sim = new SmlSimulator({ intervalMs: 150, speed: 3600 });
    port = await sim.listen(0);
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(async () => {
    sim.tamper = undefined;
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim.close();
  });

  const meter = (extra: object = {}) => ({ id: 'n1', z: 't', type: 'ems-sml-meter', name: '', meterId: 'ehz-1', host: '127.0.0.1', port: String(port), baud: '9600', silence: '60', wires: [['out']], ...extra });

  it('sends a message with canonical readings per telegram from the simulator over TCP', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, meter(), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(smlNode, flow);
    const msgs: any[] = [];
    helper.getNode('out').on('input', (m: any) => msgs.push(m));
    await waitFor(() => msgs.length >= 3);
    const [a, , c] = msgs;
    assert.equal(a.topic, 'ehz-1');
    const r = a.payload as Reading[];
    assert.deepEqual(r.map((x) => x.obis), ['1-0:1.8.0', '1-0:2.8.0', '1-0:16.7.0']);
    assert.ok(r.every((x) => x.meter === 'ehz-1' && typeof x.time === 'number'));
    assert.equal(r[0].unit, 'kWh');
    assert.equal(r[2].unit, 'kW');
    assert.ok((c.payload as Reading[])[0].value > r[0].value, '1.8.0 rises');
    assert.equal(a.sml.serverId, '0a01454d480000bc614e');
    assert.equal(a.sml.entries.find((e: any) => e.obis === '129-129:199.130.3').text, 'EMH');
    JSON.stringify(a); // JSON-safe
  });

  it('reports a telegram with a CRC error to a Catch node naming the meter, then goes on', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' }, meter(), { id: 'out', z: 't', type: 'helper' },
      { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(smlNode, flow);
    const good: any[] = [];
    helper.getNode('out').on('input', (m: any) => good.push(m));
    await waitFor(() => good.length >= 1);
    const caught = new Promise<any>((r) => helper.getNode('caught').on('input', r));
    sim.tamper = (t) => { const b = Buffer.from(t); b[40] ^= 0x55; return b; };
    const err = await caught;
    sim.tamper = undefined;
    assert.match(err.error.message, /meter "ehz-1": 127\.0\.0\.1:\d+: offset \d+: CRC error/);
    assert.equal(err.topic, 'ehz-1');
    const n = good.length;
    await waitFor(() => good.length > n + 1);
  });

  it('reconnects when the bridge drops the connection; two nodes on one bridge share a connection', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, meter(), meter({ id: 'n2', meterId: 'ehz-2', wires: [['out2']] }), { id: 'out', z: 't', type: 'helper' }, { id: 'out2', z: 't', type: 'helper' }];
    await helper.load(smlNode, flow);
    const msgs: any[] = [];
    const msgs2: any[] = [];
    helper.getNode('out').on('input', (m: any) => msgs.push(m));
    helper.getNode('out2').on('input', (m: any) => msgs2.push(m));
    await waitFor(() => msgs.length >= 1 && msgs2.length >= 1);
    assert.equal(sim.clients, 1, 'one shared connection');
    assert.equal(msgs2[0].topic, 'ehz-2');
    sim.dropClients();
    const n = msgs.length;
    await waitFor(() => msgs.length > n + 1, 8000);
    assert.equal(sim.clients, 1);
  });

  it('closes its connection on redeploy and flags a missing port', async () => {
    await helper.load(smlNode, [{ id: 't', type: 'tab' }, meter(), { id: 'out', z: 't', type: 'helper' }] as any[]);
    await waitFor(() => sim.clients === 1);
    await helper.unload();
    await waitFor(() => sim.clients === 0);
    const flow: any[] = [{ id: 't', type: 'tab' }, meter({ port: '' }), { id: 'out', z: 't', type: 'helper' }];
    await helper.load(smlNode, flow);
    const logged = () => helper.log().args.some((a: any[]) => /port must be a whole number 1\.\.65535, got ""/.test(String(a[0]?.msg)));
    await waitFor(logged);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sim.clients, 0);
  });
});
