import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { openStore, type ReadingStore } from '../../lib/store';
import { touTariff } from './billing-fixtures';

const NOW = Date.UTC(2026, 10, 21, 9);
const sdm = (folder_id: string, name: string) => ({ folder_id, name, protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1' });
type Answer = HttpAnswer & { body: any };

describe('accounting objects', () => {
  let services: EmsServices;
  let store: ReadingStore;
  let admin: string;
  let viewer: string;
  let viewerB: string;
  const call = (name: string, token: string, c: { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown } = {}): Promise<Answer> =>
    runOperation(operationByName(name)!, {
      services, store, bills: {} as BillStore, timeZone: 'UTC', now: () => NOW,
      request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: { authorization: `Bearer ${token}` }, cookies: {} },
    }) as Promise<Answer>;
  const fails = (r: Answer, status: number, error: RegExp) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.error, error);
  };

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'head-pass-0417' }, now: () => NOW });
    store = openStore({ backend: 'sqlite', path: ':memory:' });
    const a = services.registry.createFolder({ name: 'A' });
    const b = services.registry.createFolder({ name: 'B' });
    services.registry.createMeter(sdm(a._id, 'feeder 1'));
    services.registry.createMeter(sdm(b._id, 'feeder 2'));
    services.tariffs.create({ tariff: touTariff() });
    await services.users.create({ login: 'vic', name: 'Vic', password: 'view-pass-0420', role: 'viewer' });
    await services.users.create({ login: 'bea', name: 'Bea', password: 'view-pass-0421', role: 'viewer', open_folders: [b._id] });
    admin = (await services.auth.login('admin', 'head-pass-0417')).access_token;
    viewer = (await services.auth.login('vic', 'view-pass-0420')).access_token;
    viewerB = (await services.auth.login('bea', 'view-pass-0421')).access_token;
  });
  after(async () => { services.close(); await store.close(); });

  it('builds an electricity tree with transformers and binds meters to the parent\'s tariff', async () => {
    const sub = await call('objects.create', admin, { body: { name: 'Substation 10 kV', type: 'substation', tariff_id: 'day-night', location: ['Plant', 'Hall 3'], block: ['Bay 1'] } });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const f1 = await call('objects.create', admin, { body: {
      name: 'Feeder 1', type: 'feeder', parent_id: sub.body.data._id, meter_id: 'feeder-1', date: ['2025-03-14'],
      tn1: { ratio: '10000/100', serial: 'TN-1', class: '0.5' }, tt: { ratio: '200/5', class: '0.5S' }, obis: { '1.8.0': 'Active import' },
      parameters: [{ name: 'contract power', value: 400, unit: 'kW' }],
    } });
    assert.equal(f1.status, 201, JSON.stringify(f1.body));
    // 10000/100 = 100 (volts) x 200/5 = 40 (amperes) = 4000.
    assert.equal(f1.body.data.transformer_factor, 4000);
    assert.deepEqual(f1.body.data.obis, { '1-0:1.8.0': 'Active import' });
    await call('objects.create', admin, { body: { name: 'Feeder 2', type: 'feeder', parent_id: sub.body.data._id, meter_id: 'feeder-2' } });
    await call('objects.create', admin, { body: { name: 'Losses', model: 'calculation', parameters: [{ name: 'formula', value: 'Substation - Feeder 1 - Feeder 2' }] } });

    const tree = (await call('objects.list', viewer, { query: { model: 'electricity' } })).body.data;
    assert.equal(tree.length, 1);
    assert.equal(tree[0].name, 'Substation 10 kV');
    assert.deepEqual(tree[0].child_objects.map((c: any) => c.name), ['Feeder 1', 'Feeder 2']);
    assert.equal(tree[0].createdAt, '2026-11-21T09:00:00.000Z');
    assert.equal(tree[0].location, undefined, 'location and block come with GET /api/objects/:id');
    const calc = (await call('objects.list', viewer, { query: { model: 'calculation' } })).body.data;
    assert.deepEqual(calc.map((o: any) => o.name), ['Losses']);
    const one = (await call('objects.get', viewer, { params: { id: sub.body.data._id } })).body.data;
    assert.deepEqual([one.location, one.block, one.child_objects.length], [['Plant', 'Hall 3'], ['Bay 1'], 2]);

    // Feeder 1 has no tariff of its own: it inherits the substation's.
    assert.equal(services.objects.tariffForMeter('feeder-1')?._id, 'day-night');
    assert.equal(services.objects.tariffForMeter('no-such-meter'), null);
    assert.match(services.events.query({ filter: 'config' })[0].event, /^object created: Losses$/);
  });

  it('refuses bad fields naming them, cycles, and writes by a viewer', async () => {
    const [sub] = (await call('objects.list', admin, { query: { model: 'electricity' } })).body.data;
    const feeder = sub.child_objects[0];
    fails(await call('objects.create', viewer, { body: { name: 'x' } }), 403, /needs the operator role/);
    fails(await call('objects.create', admin, { body: { name: 'x', meter_id: 'ghost' } }), 400, /meter_id: unknown meter "ghost"/);
    fails(await call('objects.create', admin, { body: { name: 'x', tariff_id: 'ghost' } }), 400, /tariff_id: "ghost" is not a known tariff id/);
    fails(await call('objects.create', admin, { body: { name: 'x', tt: { ratio: '200:5' } } }), 400, /tt.ratio "200:5" must be "primary\/secondary"/);
    fails(await call('objects.create', admin, { body: { name: 'x', date: ['2026-02-30'] } }), 400, /date\[0\] "2026-02-30" must be a date/);
    fails(await call('objects.create', admin, { body: { name: 'x', model: 'gas' } }), 400, /model "gas" must be one of electricity, calculation/);
    fails(await call('objects.create', admin, { body: { name: 'x', colour: 'red' } }), 400, /unknown field "colour"/);
    fails(await call('objects.list', admin, { query: { model: 'gas' } }), 400, /model "gas"/);
    fails(await call('objects.update', admin, { params: { id: sub._id }, body: { parent_id: feeder._id } }), 400, /would put object .* inside itself \(a cycle\)/);
    fails(await call('objects.update', admin, { params: { id: sub._id }, body: { parent_id: sub._id } }), 400, /a cycle/);
    fails(await call('objects.delete', admin, { params: { id: sub._id } }), 409, /still has child objects "Feeder 1", "Feeder 2"/);
    fails(await call('tariffs.delete', admin, { params: { id: 'day-night' } }), 409, /in use by object "Substation 10 kV"/);
    const moved = await call('objects.update', admin, { params: { id: feeder._id }, body: { tt: null, name: 'Feeder 1a' } });
    assert.equal(moved.body.data.transformer_factor, 100, 'only the voltage transformer is left');
    assert.equal(moved.body.data.name, 'Feeder 1a');
  });

  it('hides objects of meters outside the caller\'s folders, and unbinds a deleted meter', async () => {
    const tree = (await call('objects.list', viewerB, { query: { model: 'electricity' } })).body.data;
    assert.deepEqual(tree[0].child_objects.map((c: any) => c.name), ['Feeder 2'], 'feeder-1 is in folder A');
    const hidden = services.objects.tree('electricity')[0].child_objects.find((c) => c.meter_id === 'feeder-1')!;
    fails(await call('objects.get', viewerB, { params: { id: hidden._id } }), 404, /unknown accounting object/);
    services.registry.deleteMeter('feeder-1');
    assert.equal(services.objects.get(hidden._id).meter_id, null);
  });
});
