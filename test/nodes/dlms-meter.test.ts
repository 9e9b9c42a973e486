// ems-dlms-meter against the DLMS simulator (lib/sim/dlms): LLS over the wrapper, HLS-GMAC over HDLC with the
// invocation counter kept in the user dir, a wrong key refused with a clear status, clock sync, load profile backfill.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import dlmsNode from '../../nodes/dlms-meter/dlms-meter';
import { DlmsSimulator } from '../../lib/sim/dlms';
import { DEFAULT_AK, DEFAULT_EK } from '../../lib/sim/dlms/cli';
import { Quality, type Reading } from '../../lib/model';
import { openPtyPair } from '../../lib/sim/serial';
import { findExecutable } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));

const keys = { encryptionKey: Buffer.from(DEFAULT_EK, 'hex'), authenticationKey: Buffer.from(DEFAULT_AK, 'hex') };

/** Resolves with the first message on `id`, or fails naming what it waited for. */
function next(id: string, what: string, ms = 15_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    helper.getNode(id).once('input', (m: any) => { clearTimeout(t); resolve(m); });
  });
}

describe('ems-dlms-meter', () => {
  let sim: DlmsSimulator;
  let wrapperPort: number;
  let hdlcPort: number;
  let userDir: string;

  before(async () => {
    sim = new DlmsSimulator({ meterId: 'NODE0001', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000011', 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60, profilePeriodSeconds: 900 });
    wrapperPort = await sim.listenWrapper(0);
    hdlcPort = await sim.listenHdlc(0);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dlms-node-'));
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  const base = (extra: Record<string, unknown> = {}) => ({
    id: 'n1', z: 't', type: 'ems-dlms-meter', host: '127.0.0.1', port: String(wrapperPort), serverAddress: '1', clientSap: '', security: 'lls',
    systemTitle: '', obis: '', baud: '9600', timeout: '3000', timeDifference: '0', system: '', meterId: 'grid-1', wires: [['out']], ...extra,
  });
  const flowOf = (node: Record<string, unknown>): any[] => [
    { id: 't', type: 'tab' }, node, { id: 'out', z: 't', type: 'helper' },
    { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 't', type: 'helper' },
  ];
  const energyOf = (r: Reading[]) => r.find((x) => x.obis === '1-0:1.8.0');

  it('reads the registers with LLS over the wrapper, in kWh and kW', async () => {
    await helper.load(dlmsNode, flowOf(base()), { n1: { password: '12345678' } });
    const got = next('out', 'readings');
    helper.getNode('n1').receive({ payload: '' });
    const msg = await got;
    const r = msg.payload as Reading[];
    assert.deepEqual(r.map((x) => x.obis).sort(), ['1-0:1.7.0', '1-0:1.8.0', '1-0:2.7.0', '1-0:2.8.0', '1-0:31.7.0', '1-0:32.7.0']);
    const e = energyOf(r)!;
    assert.equal(e.meter, 'grid-1');
    assert.equal(e.unit, 'kWh');
    assert.ok(e.value > 0 && Math.abs(e.time - Date.now()) < 10_000, JSON.stringify(e));
    assert.equal(r.find((x) => x.obis === '1-0:1.7.0')!.unit, 'kW');
    assert.equal(r.find((x) => x.obis === '1-0:32.7.0')!.unit, 'V');
    assert.deepEqual({ ...msg.dlms, clock: undefined }, { endpoint: `127.0.0.1:${wrapperPort}`, transport: 'wrapper', security: 'lls', client: 32, objects: undefined, clock: undefined });
  });

  it('reads with HLS-GMAC over HDLC and keeps the invocation counter in the user dir, never the keys', async () => {
    const node = base({ port: String(hdlcPort), serverAddress: '1/17', security: 'hls-gmac', obis: '1-0:1.8.0, 4:1-0:1.6.0' });
    await helper.load(dlmsNode, flowOf(node), { n1: { encryptionKey: DEFAULT_EK, authenticationKey: DEFAULT_AK } });
    for (let i = 0; i < 2; i++) {
      const got = next('out', `HLS readings ${i + 1}`);
      helper.getNode('n1').receive({ payload: '' });
      const msg = await got;
      assert.equal(msg.dlms.transport, 'hdlc');
      assert.equal(msg.dlms.client, 48);
      assert.ok(energyOf(msg.payload)!.value > 0);
      const demand = (msg.payload as Reading[]).find((x) => x.obis === '1-0:1.6.0')!;
      assert.equal(demand.unit, 'kW');
      assert.ok(demand.time < Date.now(), 'an extended register carries its capture time');
    }
    const dir = path.join(userDir, 'ems-state', 'dlms-counters');
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    const text = fs.readFileSync(path.join(dir, files[0]), 'utf8');
    assert.ok(JSON.parse(text).next > 0, text);
    assert.ok(!text.toUpperCase().includes(DEFAULT_EK) && !text.toUpperCase().includes(DEFAULT_AK));
    // a new deploy (same user dir) goes on from the persisted counter: the simulator accepts it
    await helper.unload();
    await helper.load(dlmsNode, flowOf(node), { n1: { encryptionKey: DEFAULT_EK, authenticationKey: DEFAULT_AK } });
    const again = next('out', 'HLS readings after a redeploy');
    helper.getNode('n1').receive({ payload: '' });
    assert.ok(energyOf((await again).payload));
  });

  it('a wrong key or password fails the poll with a clear status and error, naming no secret', async () => {
    await helper.load(dlmsNode, flowOf(base({ security: 'hls-gmac' })), { n1: { encryptionKey: DEFAULT_EK, authenticationKey: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' } });
    const statuses: any[] = [];
    (helper.getNode('n1') as any).on('call:status', (c: any) => statuses.push(c.args[0]));
    const caught = next('caught', 'a caught error');
    helper.getNode('n1').receive({ payload: '', topic: 'grid-7' });
    const err = (await caught).error.message as string;
    assert.match(err, /meter "grid-7": association rejected/);
    assert.match(err, /authenticat|refused|reject/i);
    assert.ok(!err.includes('FFFFFFFF') && !err.toUpperCase().includes(DEFAULT_EK));
    assert.equal(statuses.at(-1).text, 'ems-dlms-meter.status.refused');
    await helper.unload();
    await helper.load(dlmsNode, flowOf(base()), { n1: { password: 'wrong-pw' } });
    const caught2 = next('caught', 'a caught LLS error');
    helper.getNode('n1').receive({ payload: '' });
    const err2 = (await caught2).error.message as string;
    assert.match(err2, /authenticat|refused|reject/i);
    assert.ok(!err2.includes('wrong-pw'));
  });

  it('sets a meter clock that is 5 minutes fast (LLS) and says so in msg.dlms.clock', async () => {
    const fast = new DlmsSimulator({ meterId: 'FAST0001', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000012', 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60, clockOffsetMs: 300_000 });
    try {
      const port = await fast.listenWrapper(0);
      await helper.load(dlmsNode, flowOf(base({ port: String(port), timeDifference: '60' })), { n1: { password: '12345678' } });
      const got = next('out', 'readings with a clock check');
      helper.getNode('n1').receive({ payload: '' });
      const clock = (await got).dlms.clock;
      assert.equal(clock.corrected, true, JSON.stringify(clock));
      assert.ok(clock.driftSeconds >= 295 && clock.driftSeconds <= 305, JSON.stringify(clock));
      assert.ok(Math.abs(fast.meter.clockOffsetMs()) < 3000, `offset after the correction ${fast.meter.clockOffsetMs()} ms`);
    } finally {
      await helper.unload();
      await fast.close();
    }
  });

  it('answers msg.backfill with the load profile rows of the span, flagged BACKFILLED', async () => {
    await helper.load(dlmsNode, flowOf(base()), { n1: { password: '12345678' } });
    const to = Date.now();
    const from = to - 2 * 3_600_000;
    const got = next('out', 'a backfill answer');
    helper.getNode('n1').receive({ payload: '', topic: 'grid-9', backfill: { from, to } });
    const msg = await got;
    const r = msg.payload as Reading[];
    const energy = r.filter((x) => x.obis === '1-0:1.8.0');
    assert.ok(energy.length >= 7 && energy.length <= 8, `15-minute rows in 2 h: ${energy.length}`);
    assert.ok(r.every((x) => x.meter === 'grid-9' && x.time > from && x.time <= to && (x.quality! & Quality.BACKFILLED) && x.time % 900_000 === 0), JSON.stringify(r.slice(0, 3)));
    assert.ok(energy.every((x, i) => i === 0 || x.value >= energy[i - 1].value), 'energy rises');
    assert.equal(msg.backfill.records, energy.length);
  });

  it('discovers the registers through the object list (msg.meter from an EMS poll)', async () => {
    await helper.load(dlmsNode, flowOf(base({ meterId: '' })), {});
    const got = next('out', 'discovered readings');
    const meter = { _id: 'grid-2', protocol: 'dlms', ip_address: '127.0.0.1', port: wrapperPort, connection_address: '1', security_level: 'lls', password: '12345678', profile: 'discover', waiting_time: 3000 };
    helper.getNode('n1').receive({ payload: '', topic: 'grid-2', meter } as any);
    const msg = await got;
    const obis = (msg.payload as Reading[]).map((x) => x.obis);
    assert.ok(msg.dlms.objects > 10, `object list of ${msg.dlms.objects}`);
    for (const o of ['1-0:1.8.0', '1-0:32.7.0', '1-0:1.6.0', '1-0:1.4.0']) assert.ok(obis.includes(o), `${o} in ${obis.join(', ')}`);
    assert.ok((msg.payload as Reading[]).every((x) => x.meter === 'grid-2'));
  });

  const socat = findExecutable('socat', 'EMS_SOCAT');
  it('reads over HDLC on a serial line (a pty pair)', { skip: socat ? false : 'socat not found' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dlms-node-pty-'));
    const pair = await openPtyPair(dir, socat!, ['ttyEMS', 'ttyMETER']);
    const serialSim = new DlmsSimulator({ meterId: 'PTY0002', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000013', 'hex'), logical: 1, physical: 17 });
    try {
      await serialSim.openSerial(pair.slave, 9600);
      await helper.load(dlmsNode, flowOf(base({ host: pair.master, port: '', serverAddress: '1/17', baud: '9600', obis: '1-0:1.8.0' })), { n1: { password: '12345678' } });
      const got = next('out', 'readings over the serial line', 20_000);
      helper.getNode('n1').receive({ payload: '' });
      const msg = await got;
      assert.equal(msg.dlms.transport, 'hdlc');
      assert.equal(msg.dlms.endpoint, pair.master);
      assert.ok(energyOf(msg.payload)!.value > 0);
    } finally {
      await helper.unload();
      await serialSim.close();
      await pair.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings with the field and value', async () => {
    await helper.load(dlmsNode, flowOf(base({ serverAddress: 'one' })), { n1: { password: '12345678' } });
    const caught = next('caught', 'a caught config error');
    helper.getNode('n1').receive({ payload: '' });
    assert.match((await caught).error.message, /server address "one" must be a logical device address/);
  });
});
