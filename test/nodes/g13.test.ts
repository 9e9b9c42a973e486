import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import g13Gateway from '../../nodes/g13-gateway/g13-gateway';
import g13 from '../../nodes/g13/g13';
import { G13Simulator } from '../../lib/sim/g13';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const USERS = [
  { name: 'admin', password: 'secret1', admin: true },
  { name: 'viewer', password: 'view1', admin: false, access: { ABB_8: 'view' as const } },
];

describe('ems-g13 (against the simulated G13 gateway)', () => {
  let sim: G13Simulator;
  before(async () => {
    sim = new G13Simulator({ users: USERS, scanMs: 200 });
    await sim.listen(0, '127.0.0.1');
    await new Promise<void>((r) => helper.startServer(r));
  });
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
  });
  afterEach(() => helper.unload());

  /** Loads one ems-g13 node with the given properties; resolves the output or the caught error of one input. */
  async function run(props: Record<string, unknown>, msg: Record<string, unknown>, creds = { user: 'admin', password: 'secret1' }, gw: Record<string, unknown> = {}) {
    const f: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'gw', type: 'ems-g13-gateway', url: sim.url, tls: 'fingerprint', fingerprint: sim.fingerprint256, timeZone: 'UTC', ...gw },
      { id: 'n1', z: 'tab', type: 'ems-g13', gateway: 'gw', wires: [['out']], ...props },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await helper.load([g13Gateway, g13], f, { gw: creds });
    const result = new Promise<{ out?: any; caught?: any }>((resolve) => {
      helper.getNode('out').once('input', (m: any) => resolve({ out: m }));
      helper.getNode('caught').once('input', (m: any) => resolve({ caught: m }));
    });
    helper.getNode('n1').receive(msg);
    return result;
  }

  it('values: reads a meter into canonical Readings with OBIS codes and units', async () => {
    const { out, caught } = await run({ operation: 'values', serial: 'ABB_8', meterId: 'main' }, { topic: '' });
    assert.equal(caught, undefined, caught?.error?.message);
    const r = new Map((out.payload as Reading[]).map((x) => [x.obis, x]));
    assert.equal(r.get('1-0:1.8.0')!.meter, 'main');
    assert.equal(r.get('1-0:1.8.0')!.unit, 'kWh');
    assert.ok(r.get('1-0:1.8.0')!.value >= 12345.67);
    assert.equal(r.get('1-0:32.7.0')!.unit, 'V');
    assert.equal(r.get('1-0:1.7.0')!.unit, 'kW');
    assert.equal(out.g13.gateway, sim.url);
    assert.ok(out.g13.raw.instrument.l1);
  });

  it('tariffs: energies per tariff T1-T4 that sum to the total', async () => {
    const { out } = await run({ operation: 'tariffs' }, { serial: 'ABB_9', topic: 'sub-1' });
    const r = new Map((out.payload as Reading[]).map((x) => [x.obis, x.value]));
    const sum = [1, 2, 3, 4].reduce((a, t) => a + (r.get(`1-0:1.8.${t}`) ?? 0), 0);
    assert.ok(Math.abs(sum - r.get('1-0:1.8.0')!) <= 0.05, `${sum} vs ${r.get('1-0:1.8.0')}`);
    assert.ok((out.payload as Reading[]).every((x) => x.meter === 'sub-1'));
  });

  it('loadprofile: a channel between two dates as Readings in time order', async () => {
    const to = Date.now();
    const { out, caught } = await run({ operation: 'loadprofile', serial: 'ABB_8', channel: '1' }, { from: to - 3 * 3600_000, to });
    assert.equal(caught, undefined, caught?.error?.message);
    const rows = out.payload as Reading[];
    assert.ok(rows.length >= 2);
    assert.ok(rows.every((x, i) => i === 0 || x.time > rows[i - 1].time));
    assert.ok(rows.every((x) => x.obis === rows[0].obis && x.meter === 'ABB_8'));
  });

  it('events: the gateway log, and a meter\'s logs', async () => {
    const gw = await run({ operation: 'events' }, {});
    assert.ok(Array.isArray(gw.out.payload));
    assert.ok(gw.out.payload.every((e: any) => typeof e.id === 'number' && 'name' in e));
    await helper.unload();
    const meter = await run({ operation: 'events', serial: 'ABB_8' }, {});
    assert.ok(Array.isArray(meter.out.payload));
    assert.ok(meter.out.payload.every((e: any) => ['system', 'quality', 'event'].includes(e.log)));
  });

  it('meters: lists the registered meters with their locations', async () => {
    const { out } = await run({ operation: 'meters' }, {});
    assert.deepEqual(out.payload.map((m: any) => `${m.serial}@${m.location}`).sort(), ['ABB_8@Level1', 'ABB_9@Level1', 'WTR_1@Level2']);
  });

  it('scan then add: finds the unregistered meter and registers it', async () => {
    const scan = await run({ operation: 'scan', body: '{"eqbus":{"start":17,"end":20}}', waitMs: '10000' }, {});
    assert.ok(scan.out.payload.some((m: any) => m.serial === 'ABB_3'), JSON.stringify(scan.out.payload));
    await helper.unload();
    const add = await run({ operation: 'add' }, { payload: [{ serial: 'ABB_3', alias: 'Pump', location: 'Level2' }] });
    assert.deepEqual(add.out.payload, [{ serial: 'ABB_3', ok: true }]);
    await helper.unload();
    const list = await run({ operation: 'meters' }, {});
    assert.ok(list.out.payload.some((m: any) => m.serial === 'ABB_3' && m.alias === 'Pump'));
  });

  it('settime: sets the gateway clock (admin) and is refused for a viewer', async () => {
    const ok = await run({ operation: 'settime' }, { payload: '2024-05-01T08:30:00' });
    assert.match(ok.out.payload, /^2024-05-01T08:30:0\d$/);
    await helper.unload();
    const refused = await run({ operation: 'settime' }, {}, { user: 'viewer', password: 'view1' });
    assert.match(refused.caught.error.message, /POST \/gateway\/datetime: 403/);
  });

  it('execute: one OBIS read across several meters', async () => {
    const { out } = await run({ operation: 'execute', devices: 'ABB_8, ABB_9', obis: '1-0:32.7.0' }, {});
    assert.deepEqual(out.payload.map((r: Reading) => [r.meter, r.obis, r.unit]), [['ABB_8', '1-0:32.7.0', 'V'], ['ABB_9', '1-0:32.7.0', 'V']]);
  });

  it('request: any resource by method and path', async () => {
    const { out } = await run({ operation: 'request', method: 'GET', path: '/meters/ABB_8/tariff/dayprofiles' }, {});
    assert.ok(Array.isArray(out.payload.dayprofiles));
    await helper.unload();
    const post = await run({ operation: 'request', method: 'POST', path: '/meters/ABB_8/energy/conversionfactor' }, { payload: { conversionfactor: { co2: 1.2 } } });
    assert.deepEqual(post.out.payload, { status: 'success' });
  });

  it('reports no access to a meter, wrong credentials and bad input to Catch, naming gateway, meter and resource', async () => {
    const denied = await run({ operation: 'values', serial: 'ABB_9' }, {}, { user: 'viewer', password: 'view1' });
    assert.match(denied.caught.error.message, new RegExp(`G13 ${sim.url.replace(/\./g, '\\.')} meter ABB_9: GET /meters/ABB_9/energy/active: 403 no access to meter ABB_9`));
    await helper.unload();
    const wrong = await run({ operation: 'meters' }, {}, { user: 'admin', password: 'nope' });
    assert.match(wrong.caught.error.message, /GET \/meters: 401 wrong user name or password/);
    await helper.unload();
    const bad = await run({ operation: 'loadprofile', serial: 'ABB_8' }, { channel: 9 });
    assert.match(bad.caught.error.message, /channel must be a load-profile channel 1-8, got 9/);
  });

  it('reads the meter an EMS msg.meter names, keeping msg.poll', async () => {
    const meter = {
      _id: 'ems-42', folder_id: 'f', protocol: 'g13', ip_address: '127.0.0.1', port: Number(new URL(sim.url).port),
      connection_address: 'ABB_8', password: 'viewer:view1', profile: `sha256:${sim.fingerprint256}`,
    };
    const poll = { id: 'p1', meter: 'ems-42', due: 1, started: 2 };
    const { out, caught } = await run({ operation: 'values', gateway: '' }, { topic: 'ems-42', meter, poll });
    assert.equal(caught, undefined, caught?.error?.message);
    assert.deepEqual(out.poll, poll);
    assert.ok((out.payload as Reading[]).every((r) => r.meter === 'ems-42'));
    assert.ok((out.payload as Reading[]).some((r) => r.obis === '1-0:1.8.0'));
  });
});
