import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import prepaid from '../../nodes/prepaid/prepaid';
import tariffNode from '../../nodes/tariff/tariff';
import storeNode from '../../nodes/store/store';
import systemNode from '../../nodes/system/system';
import { openEmsServices } from '../../lib/ems/services';
import type { Tariff } from '../../lib/tariff/types';

helper.init(require.resolve('node-red'));

const T0 = Date.UTC(2026, 2, 2, 0, 0);
const H = 3_600_000;
const FLAT: Tariff = {
  id: 'flat-030', name: 'Flat 0.30', currency: 'EUR', timeZone: 'UTC',
  versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Energy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate: '0.30' }] }],
};
/** An hourly record as ems-consumption sends it. */
const rec = (h: number, kwh: number) => ({ meter: 'm12', obis: '1-0:1.8.0', from: T0 + h * H, to: T0 + (h + 1) * H, value: kwh, unit: 'kWh', quality: 0 });

function flow(config: Record<string, unknown> = {}) {
  const f: any[] = [
    { id: 'flow1', type: 'tab' },
    { id: 'tariff1', type: 'ems-tariff', name: 'flat', tariff: JSON.stringify(FLAT) },
    {
      id: 'pp', z: 'flow1', type: 'ems-prepaid', tariff: 'tariff1', file: '',
      accounts: [{ id: 'flat-12', currency: 'EUR', warnBelow: '10', cutOffBelow: '0', initialBalance: '25' }],
      wires: [['out1'], ['out2']], ...config,
    },
    { id: 'catcher', z: 'flow1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'flow1', type: 'helper' },
    { id: 'out1', z: 'flow1', type: 'helper' },
    { id: 'out2', z: 'flow1', type: 'helper' },
  ];
  return f;
}

describe('ems-prepaid', () => {
  let userDir: string;
  let results: any[];
  let valves: any[];
  let errors: any[];

  async function load(config: Record<string, unknown> = {}): Promise<void> {
    await helper.load([tariffNode, prepaid], flow(config));
    results = [];
    valves = [];
    errors = [];
    helper.getNode('out1').on('input', (m: any) => results.push(m));
    helper.getNode('out2').on('input', (m: any) => valves.push(m));
    helper.getNode('caught').on('input', (m: any) => errors.push(m));
  }
  async function send(...msgs: any[]): Promise<void> {
    for (const m of msgs) {
      helper.getNode('pp').receive(m);
      await new Promise((r) => setImmediate(r));
    }
  }
  const last = () => results[results.length - 1].payload;

  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-prepaid-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('charges priced consumption, closes the valve once, applies a repeated top-up once and reopens', async () => {
    await load();
    // 28 kWh x 0.30 = 8.40 and 25 kWh x 0.30 = 7.50: 25 - 15.90 = 9.10 < 10 -> low alarm
    await send({ topic: 'm12', payload: { action: 'consume', account: 'flat-12', intervals: [rec(0, 28), rec(1, 25)] } });
    assert.equal(errors.length, 0, errors[0]?.error?.message);
    const r1 = last();
    assert.deepEqual([r1.action, r1.status, r1.charged, r1.balance, r1.alarm, r1.valve], ['consume', 'applied', '15.90', '9.10', 'low', 'open']);
    assert.deepEqual(r1.entries.map((e: any) => [e.reference, e.amount, e.quantity]), [
      ['m12:1-0:1.8.0:2026-03-02T00:00:00.000Z/2026-03-02T01:00:00.000Z', '-8.40', '28'],
      ['m12:1-0:1.8.0:2026-03-02T01:00:00.000Z/2026-03-02T02:00:00.000Z', '-7.50', '25']]);
    assert.deepEqual(r1.alarmChanges.map((a: any) => [a.alarm, a.previous, a.threshold]), [['low', 'ok', '10']]);
    assert.equal(results[0].topic, 'm12', 'the input msg is reused');
    assert.equal(valves.length, 0);

    // 34 kWh x 0.30 = 10.20: 9.10 - 10.20 = -1.10 < 0 -> close
    await send({ payload: { action: 'consume', account: 'flat-12', intervals: rec(2, 34) } });
    assert.equal(valves.length, 1);
    assert.equal(valves[0].topic, 'flat-12');
    assert.deepEqual(valves[0].payload, { account: 'flat-12', valve: 'close', balance: '-1.10', threshold: '0', time: T0 + 3 * H });
    // the same hour replayed: not charged again, no second close
    await send({ payload: { action: 'consume', account: 'flat-12', intervals: [rec(2, 34)] } });
    assert.deepEqual([last().status, last().charged, last().balance, last().valve], ['already applied', '0', '-1.10', 'closed']);
    assert.equal(valves.length, 1);

    // -1.10 + 5 = 3.90 >= 0 -> open; the same payment again is applied once
    await send({ topic: 'topup', payload: { account: 'flat-12', reference: 'pay-1', amount: '5' } });
    assert.deepEqual([last().status, last().entry.amount, last().balance], ['applied', '5', '3.90']);
    await send({ topic: 'topup', payload: { account: 'flat-12', reference: 'pay-1', amount: '5' } });
    assert.deepEqual([last().status, last().balance], ['already applied', '3.90']);
    assert.deepEqual(valves.map((m) => m.payload.valve), ['close', 'open']);
    assert.equal(valves[1].payload.balance, '3.90');

    await send({ payload: { action: 'balance', account: 'flat-12' } });
    assert.deepEqual(last(), { action: 'balance', account: 'flat-12', currency: 'EUR', balance: '3.90', valve: 'open', alarm: 'low', warnBelow: '10', cutOffBelow: '0' });
    await send({ payload: { action: 'entries', account: 'flat-12' } });
    // 25 - 8.40 - 7.50 - 10.20 + 5 = 3.90
    assert.deepEqual(last().entries.map((e: any) => e.balance), ['25.00', '16.60', '9.10', '-1.10', '3.90']);
    assert.equal(errors.length, 0);
  });

  it('writes cut-off, reopening and alarm changes to the EMS event log, against the meter of the same id', async () => {
    const db = path.join(userDir, 'ems.db');
    const seed = await openEmsServices({ file: db, env: { EMS_ADMIN_USER: 'root', EMS_ADMIN_PASSWORD: 'top-pass-0417' } });
    const folder = seed.registry.createFolder({ name: 'Flats' });
    seed.registry.createMeter({ folder_id: folder._id, name: 'Flat 12 water', protocol: 'lorawan', profile: '' }, undefined, 'flat-12');
    seed.close();
    const f = flow({ system: 'sys' });
    f.push({ id: 'st', type: 'ems-store', backend: 'sqlite', path: ':memory:', timeZone: 'UTC' }, { id: 'sys', type: 'ems-system', store: 'st', path: db, billsPath: '', timeZone: '' });
    await helper.load([tariffNode, storeNode, systemNode, prepaid], f);
    results = [];
    valves = [];
    helper.getNode('out1').on('input', (m: any) => results.push(m));
    helper.getNode('out2').on('input', (m: any) => valves.push(m));
    await send({ topic: 'consume', payload: { account: 'flat-12', reference: 'c1', amount: '30' } });
    await send({ topic: 'topup', payload: { account: 'flat-12', reference: 'p1', amount: '50' } });
    assert.deepEqual(valves.map((m) => m.payload.valve), ['close', 'open']);
    const services = await (helper.getNode('sys') as any).ready();
    await new Promise((r) => setTimeout(r, 20));
    const logged = services.events.query({ filter: 'prepaid' }).concat(services.events.query({ filter: 'alarm' }))
      .map((e: any) => `${e.kind} ${e.level} ${e.meter_id} ${e.meter_name}: ${e.event}`).sort();
    assert.deepEqual(logged, [
      'alarm info flat-12 Flat 12 water: prepaid balance 45.00 is back above the thresholds (was cut-off)',
      'alarm warning flat-12 Flat 12 water: prepaid balance -5.00 is below the cut-off threshold 0',
      'prepaid info flat-12 Flat 12 water: prepaid reopened: valve opened at balance 45.00',
      'prepaid warning flat-12 Flat 12 water: prepaid cut-off: valve closed at balance -5.00 (cut-off below 0)',
    ]);
  });

  it('sends the close command due when a redeploy raises the cut-off above the balance', async () => {
    await load();
    await helper.unload();
    await load({ accounts: [{ id: 'flat-12', currency: 'EUR', warnBelow: '40', cutOffBelow: '30', initialBalance: '25' }] });
    await new Promise((r) => setTimeout(r, 20));
    // 25 (the initial balance, entered once) < 30
    assert.deepEqual(valves.map((m) => [m.topic, m.payload.valve, m.payload.balance, m.payload.threshold]), [['flat-12', 'close', '25.00', '30']]);
    await send({ payload: { action: 'balance', account: 'flat-12' } });
    assert.deepEqual([last().balance, last().valve, last().alarm], ['25.00', 'closed', 'cut-off']);
  });

  it('sends bad input to Catch naming the field, and writes nothing', async () => {
    await load();
    const bad = { topic: 'x', payload: { action: 'topup', account: 'flat-12', reference: 'pay-9', amount: '-5' } };
    await send(bad);
    assert.equal(errors.length, 1);
    assert.match(errors[0].error.message, /amount must be positive for a top-up, got "-5"/);
    assert.deepEqual(errors[0].payload, bad.payload, 'Catch gets the input msg');
    await send(
      { payload: { action: 'topup', account: 'nobody', reference: 'p', amount: '5' } },
      { payload: { action: 'topup', account: 'flat-12', amount: '5' } },
      { payload: { action: 'refund', account: 'flat-12' } },
      { payload: { action: 'consume', account: 'flat-12', amount: '2' } },
      { payload: { action: 'consume', account: 'flat-12', intervals: [{ meter: 'm12', from: T0, to: T0 + H, value: 'lots', unit: 'kWh' }] } },
    );
    const expected = [
      /unknown account "nobody"/,
      /reference must be a non-empty string .* got undefined/,
      /payload\.action must be one of topup, consume, balance, create, entries .* got "refund"/,
      /payload\.reference is required with payload\.amount/,
      /payload\.intervals\[0\]\.value \("lots"\) must be a number/,
    ];
    assert.equal(errors.length, 1 + expected.length);
    expected.forEach((re, i) => assert.match(errors[i + 1].error.message, re));
    await send({ payload: { action: 'balance', account: 'flat-12' } });
    assert.equal(last().balance, '25.00');
    assert.equal(valves.length, 0);
  });

  it('creates accounts by msg, takes pre-priced amounts and keeps the valve state across a restart', async () => {
    await load({ tariff: '', accounts: [] });
    await send({ payload: { action: 'create', account: 'gas-7', currency: 'EUR', warnBelow: '5', cutOffBelow: '-2', initialBalance: '3' } });
    assert.deepEqual([last().status, last().balance, last().alarm], ['created', '3.00', 'low']);
    // 3 - 5.50 = -2.50 < -2 -> close
    await send({ payload: { action: 'consume', account: 'gas-7', reference: 'bill-1', amount: '5.50' } });
    assert.deepEqual(valves.map((m) => m.payload), [{ account: 'gas-7', valve: 'close', balance: '-2.50', threshold: '-2', time: valves[0].payload.time }]);
    const file = path.join(userDir, 'ems-prepaid', 'pp.db');
    assert.ok(fs.existsSync(file), 'the ledger is under the user dir');
    await helper.unload();

    await load({ tariff: '', accounts: [] });
    await send({ payload: { action: 'consume', account: 'gas-7', reference: 'bill-2', amount: '1' } });
    assert.deepEqual([last().balance, last().valve], ['-3.50', 'closed']);
    assert.equal(valves.length, 0, 'no second close after the restart');
    // consumption intervals without a tariff are refused naming the property
    await send({ payload: { action: 'consume', account: 'gas-7', intervals: [rec(0, 1)] } });
    assert.match(errors[0].error.message, /tariff: consumption intervals need a tariff/);
    await send({ payload: { action: 'topup', account: 'gas-7', reference: 'p1', amount: '1.50' } });
    assert.deepEqual(valves.map((m) => m.payload.valve), ['open'], '-3.50 + 1.50 = -2.00, not below -2');
  });
});
