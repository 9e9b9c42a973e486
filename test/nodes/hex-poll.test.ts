import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import hexNode from '../../nodes/hex-poll/hex-poll';
import storeNode from '../../nodes/store/store';
import systemNode from '../../nodes/system/system';
import { HexSimulator, DEFAULT_HEX_PAIRS } from '../../lib/sim/hex';
import { RawResponses } from '../../lib/ems/raw-responses';

helper.init(require.resolve('node-red'));

describe('ems-hex-poll', () => {
  let sim: HexSimulator;
  let port: number;
  let dir: string;

  before(async () => {
    sim = new HexSimulator({ pairs: [...DEFAULT_HEX_PAIRS, { request: '0A0B', response: '0A0BFFFF' }] });
    port = await sim.listen(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-hex-node-'));
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const node = (extra: Record<string, unknown> = {}) => ({ id: 'n1', z: 't', type: 'ems-hex-poll', host: '127.0.0.1', port: String(port), spec: 'modbus-rtu:010300000002C40B', address: '1', waitingTime: '500', pauseTime: '0', packageSize: '0', system: '', wires: [['out']], ...extra });

  it('polls the command from msg.meter.profile, stores the raw response with meter_id and date', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' },
      { id: 's1', type: 'ems-store', backend: 'sqlite', path: path.join(dir, 'store.db'), timeZone: 'UTC' },
      { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: '' },
      node({ spec: '', system: 'sys' }), { id: 'out', z: 't', type: 'helper' },
    ];
    await helper.load([hexNode, storeNode, systemNode], flow);
    const got = new Promise<any>((r) => helper.getNode('out').on('input', r));
    const poll = { id: 'p', meter: 'hex-1', due: 1, started: 1 };
    helper.getNode('n1').receive({ meter: { _id: 'hex-1', protocol: 'hex', profile: 'modbus-rtu:010300000002C40B', ip_address: '127.0.0.1', port, waiting_time: 500 }, poll } as any);
    const msg = await got;
    assert.deepEqual(msg.poll, poll);
    assert.deepEqual(msg.payload, []);
    assert.deepEqual(msg.hex.command, ['010300000002C40B']);
    assert.deepEqual(msg.hex.response, ['010304436680006E68']);
    assert.deepEqual(msg.hex.registers, ['43668000']);
    const services = await (helper.getNode('sys') as any).ready();
    const stored = new RawResponses(services.db).query('hex-1', {});
    assert.equal(stored.length, 1);
    assert.equal(stored[0].data, '010304436680006E68');
    assert.ok(Math.abs(Date.parse(stored[0].date) - Date.now()) < 5000);
  });

  it('checks a raw response with the chosen check and reports a CRC error to Catch', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' }, node({ spec: 'raw:0A0B:crc16-modbus' }), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['h1']] }, { id: 'h1', z: 't', type: 'helper' },
    ];
    await helper.load(hexNode, flow);
    const caught = new Promise<any>((r) => helper.getNode('h1').on('input', r));
    helper.getNode('n1').receive({ topic: 'm' });
    assert.match((await caught).error.message, /frame 1: crc16-modbus error: computed 0x[0-9A-F]{4}, received 0xFFFF/);
  });

  it('sends msg.command and times out after waiting_time', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' }, node({ waitingTime: '200' }), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['h1']] }, { id: 'h1', z: 't', type: 'helper' },
    ];
    await helper.load(hexNode, flow);
    const out = new Promise<any>((r) => helper.getNode('out').on('input', r));
    helper.getNode('n1').receive({ command: '0A 0B' } as any);
    assert.deepEqual((await out).hex.response, ['0A0BFFFF']);
    const caught = new Promise<any>((r) => helper.getNode('h1').on('input', r));
    helper.getNode('n1').receive({ command: 'EEEE' } as any);
    assert.match((await caught).error.message, /no response to frame 1 within 200 ms/);
  });
});
