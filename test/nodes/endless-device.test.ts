import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import g13 from '../../nodes/g13/g13';
import hexNode from '../../nodes/hex-poll/hex-poll';
import { G13Simulator } from '../../lib/sim/g13';
import { HexSimulator, DEFAULT_HEX_PAIRS } from '../../lib/sim/hex';
import { endlessHttp, endlessTcp, type Fake } from '../lib/fake-endless';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

/** Resolves with the first message a helper node gets, or rejects after `ms`. */
function next(id: string, ms = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${id}: no message within ${ms} ms`)), ms);
    helper.getNode(id).once('input', (m: any) => { clearTimeout(t); resolve(m); });
  });
}

const flow = (type: string, extra: Record<string, unknown> = {}) => [
  { id: 't', type: 'tab' },
  { id: 'n1', z: 't', type, wires: [['out']], ...extra },
  { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'out', z: 't', type: 'helper' },
  { id: 'caught', z: 't', type: 'helper' },
];

describe('a device that answers without end fails its own poll only', () => {
  let flood: Fake;
  let device: Fake;
  let sim: G13Simulator;
  let hexSim: HexSimulator;
  let hexPort: number;

  before(async () => {
    flood = await endlessHttp('flood');
    device = await endlessTcp('flood', 'A');
    sim = new G13Simulator({ users: [{ name: 'admin', password: 'secret1', admin: true }] });
    await sim.listen(0, '127.0.0.1');
    hexSim = new HexSimulator({ pairs: DEFAULT_HEX_PAIRS });
    hexPort = await hexSim.listen(0);
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await Promise.all([flood.close(), device.close(), sim.close(), hexSim.close()]);
  });

  it('G13: the endless gateway reaches Catch naming the meter (msg.poll kept); a healthy meter still reads', async () => {
    await helper.load([g13], flow('ems-g13', { operation: 'values', gateway: '' }));
    const caught = next('caught');
    const out = next('out');
    const rss0 = process.memoryUsage().rss;
    const bad = { _id: 'g13-endless', protocol: 'g13', ip_address: '127.0.0.1', port: flood.port, connection_address: 'ABB_8', password: 'admin:Gw-Secret-9', profile: 'plain' };
    const good = { _id: 'g13-good', protocol: 'g13', ip_address: '127.0.0.1', port: Number(new URL(sim.url).port), connection_address: 'ABB_8', password: 'admin:secret1', profile: `sha256:${sim.fingerprint256}` };
    helper.getNode('n1').receive({ meter: bad, poll: { id: 'p-bad', meter: 'g13-endless' } } as any);
    helper.getNode('n1').receive({ meter: good, poll: { id: 'p-good', meter: 'g13-good' } } as any);
    const [err, ok] = await Promise.all([caught, out]);
    assert.match(err.error.message, /meter "g13-endless": G13 http:\/\/127\.0\.0\.1:\d+ meter ABB_8: .*the answer exceeds the 1 MiB cap; aborted/);
    assert.ok(!err.error.message.includes('Gw-Secret-9'));
    assert.deepEqual(err.poll, { id: 'p-bad', meter: 'g13-endless' });
    assert.deepEqual(ok.poll, { id: 'p-good', meter: 'g13-good' });
    assert.ok((ok.payload as Reading[]).some((r) => r.meter === 'g13-good' && r.obis === '1-0:1.8.0'));
    assert.ok(process.memoryUsage().rss - rss0 < 100e6, 'RSS stays bounded');
  });

  it('HEX: the endless device reaches Catch naming the meter (msg.poll kept); a healthy meter still answers', async () => {
    await helper.load(hexNode, flow('ems-hex-poll', { host: '127.0.0.1', port: String(hexPort), spec: '', address: '1', waitingTime: '1000', system: '' }));
    const caught = next('caught');
    const out = next('out');
    const rss0 = process.memoryUsage().rss;
    const profile = 'modbus-rtu:010300000002C40B';
    helper.getNode('n1').receive({ meter: { _id: 'hex-endless', profile: 'raw:0103', ip_address: '127.0.0.1', port: device.port, waiting_time: 1000 }, poll: { id: 'p-bad' } } as any);
    helper.getNode('n1').receive({ meter: { _id: 'hex-good', profile, ip_address: '127.0.0.1', port: hexPort, waiting_time: 1000 }, poll: { id: 'p-good' } } as any);
    const [err, ok] = await Promise.all([caught, out]);
    assert.match(err.error.message, /meter "hex-endless": 127\.0\.0\.1:\d+: the answer exceeds the 256 KiB cap; connection dropped/);
    assert.deepEqual(err.poll, { id: 'p-bad' });
    assert.deepEqual(ok.poll, { id: 'p-good' });
    assert.equal(ok.topic, 'hex-good');
    assert.deepEqual(ok.hex.response, ['010304436680006E68']);
    assert.ok(process.memoryUsage().rss - rss0 < 100e6, 'RSS stays bounded');
  });
});
