/**
 * The shipped example "LoRaWAN platform - prepaid valve from platform readings" end to end: the
 * platform's register feeds ems-prepaid, whose valve commands go back to the platform simulator.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import { LorawanPlatformClient } from '../../lib/clients/lorawan-platform';
import platformNode from '../../nodes/lorawan-platform/lorawan-platform';
import serverNode from '../../nodes/lorawan-platform-server/lorawan-platform-server';
import prepaidNode from '../../nodes/prepaid/prepaid';
import tariffNode from '../../nodes/tariff/tariff';
import { eventually } from './runtime';

helper.init(require.resolve('node-red'));
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CORE = path.dirname(require.resolve('@node-red/nodes/package.json'));
const core = ['core/common/20-inject.js', 'core/common/21-debug.js', 'core/common/90-comment.js', 'core/function/10-function.js'].map((f) => require(path.join(CORE, f)));
const HOUR = 3600_000;

describe('example: prepaid gas from LoRaWAN platform readings, valve commands back to the platform', () => {
  const clock = { t: Date.UTC(2026, 5, 1) };
  let sim: LorawanPlatformSimulator;
  let port: number;
  let dir: string;

  before(async () => {
    sim = new LorawanPlatformSimulator({ now: () => clock.t, tokenTtlMs: 365 * 24 * HOUR });
    port = await sim.listen(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lorap-prepaid-'));
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('closes the platform\'s valve when the balance falls below 0 and reopens it after a top-up', async () => {
    const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/LoRaWAN platform - prepaid valve from platform readings.json'), 'utf8'));
    for (const n of flow) {
      if (n.type === 'ems-lorawan-platform-server') n.url = `http://127.0.0.1:${port}/api/commonInternal.jsp`;
      if (n.type === 'ems-prepaid') n.file = path.join(dir, 'ledger.db');
      if (n.type === 'inject') n.repeat = '';
      if (n.type !== 'ems-tariff' && n.type !== 'ems-lorawan-platform-server') n.z = 'tab';
    }
    flow.push({ id: 'tab', type: 'tab' }, { id: 'seen', z: 'tab', type: 'helper' });
    flow.find((n: any) => n.id === 'lorap-ex-prepaid').wires[0].push('seen');
    await helper.load([...core, serverNode, platformNode, tariffNode, prepaidNode] as any, flow, { 'lorap-ex-server': { username: 'karly', password: '123456' } });
    const balances: any[] = [];
    helper.getNode('seen').on('input', (m: any) => balances.push(m.payload));
    const errors: any[] = [];
    helper.getNode('lorap-ex-errors').on('input', (m: any) => errors.push(m.error));
    const client = new LorawanPlatformClient({ url: `http://127.0.0.1:${port}/api/commonInternal.jsp`, username: 'karly', password: '123456' });
    const valveRecords = () => client.valveRecords({ areaId: 39, start: '2026-06-01 00:00:00', end: '2026-06-30 00:00:00' });
    const tick = async (expectBalances: number) => {
      const reads = sim.requests.filter((r) => r.method === 'queryRealTimeData').length;
      helper.getNode('lorap-ex-tick').receive({});
      await eventually(5000, async () => (sim.requests.filter((r) => r.method === 'queryRealTimeData').length > reads ? true : undefined));
      for (let i = 0; i < 100 && balances.length < expectBalances && !errors.length; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(errors, []);
    };

    // Gas meter 8cf9572000010106: 250.5 m3, 1.2 m3/day. Account: 10 AED, 9 AED/m3, alarm below 20, valve closes below 0.
    await tick(0);
    clock.t += 12 * HOUR; // 0.6 m3 = 5.40 AED -> 4.60
    await tick(1);
    assert.equal(balances[0].balance, '4.60');
    assert.equal(balances[0].valve, 'open');
    clock.t += 12 * HOUR; // 0.6 m3 more -> -0.80: below 0, the valve closes
    await tick(2);
    assert.equal(balances[1].balance, '-0.80');
    assert.equal(balances[1].valve, 'closed');
    let records = await eventually(5000, async () => { const r = await valveRecords(); return r.length ? r : undefined; });
    assert.deepEqual(records.map((r) => [r.executionType, r.dateTime, r.username]), [[0, '2026-06-02 00:00:00', 'RHF_dongho_02']]);
    assert.equal(await client.valveStatus('8cf9572000010106'), 0);
    const closedAt = (await client.realTime('8cf9572000010106')).cumulantFlow;

    clock.t += 12 * HOUR; // the valve is shut: no gas flows, nothing more is charged
    assert.equal((await client.realTime('8cf9572000010106')).cumulantFlow, closedAt);
    helper.getNode('lorap-ex-topup').receive({ payload: { action: 'topup', account: '8cf9572000010106', reference: 'pay-1', amount: '50' } });
    records = await eventually(5000, async () => { const r = await valveRecords(); return r.length === 2 ? r : undefined; });
    assert.deepEqual(records.map((r) => r.executionType), [1, 0]);
    assert.equal(balances[balances.length - 1].balance, '49.20');
    assert.equal(await client.valveStatus('8cf9572000010106'), 1);
  });
});

