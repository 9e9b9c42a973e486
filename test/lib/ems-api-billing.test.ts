import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { openStore, type ReadingStore } from '../../lib/store';
import type { Tariff } from '../../lib/tariff/types';
import { FROM, TO, ZONE, dayReadings, touTariff } from './billing-fixtures';

const NOW = Date.UTC(2026, 1, 10, 9); // 2026-02-10
const sdm = (folder_id: string, name: string) => ({ folder_id, name, protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1' });

/** 0.25 EUR/kWh flat, VAT 20%. */
const flat = (rate = '0.25'): Tariff => ({
  id: 'x', name: 'Flat', currency: 'EUR', timeZone: ZONE,
  versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Energy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate }], taxes: [{ name: 'VAT', percent: '20' }] }],
});

interface Call { token?: string; params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown }
type Answer = HttpAnswer & { body: any };

describe('API: tariffs, cost centers and bills', () => {
  let services: EmsServices;
  let store: ReadingStore;
  let bills: BillStore;
  let admin: string;
  let operator: string;
  let viewerB: string;
  let clock = NOW;
  const call = (name: string, c: Call = {}): Promise<Answer> => {
    const op = operationByName(name);
    assert.ok(op, `operation ${name}`);
    return runOperation(op, {
      services, store, bills, timeZone: ZONE, now: () => (clock += 1000), // a second per request: bills list by issue time
      request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: c.token ? { authorization: `Bearer ${c.token}` } : {}, cookies: {} },
    }) as Promise<Answer>;
  };
  const fails = (r: Answer, status: number, error: RegExp) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.data, null);
    assert.match(r.body.error, error);
  };
  const day = { from: '2026-01-05', to: '2026-01-06' }; // local Berlin dates = FROM..TO

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'head-pass-0417' }, now: () => NOW });
    store = openStore({ backend: 'sqlite', path: ':memory:' });
    bills = new BillStore(':memory:');
    const a = services.registry.createFolder({ name: 'A' });
    const b = services.registry.createFolder({ name: 'B' });
    services.registry.createMeter(sdm(a._id, 'main'));
    services.registry.createMeter(sdm(b._id, 'other'));
    await services.users.create({ login: 'olga', name: 'Olga', password: 'ops-pass-0418', role: 'operator' });
    await services.users.create({ login: 'vera', name: 'Vera', password: 'view-pass-0419', role: 'viewer', open_folders: [b._id] });
    admin = (await services.auth.login('admin', 'head-pass-0417')).access_token;
    operator = (await services.auth.login('olga', 'ops-pass-0418')).access_token;
    viewerB = (await services.auth.login('vera', 'view-pass-0419')).access_token;
    // 60 kWh on 2026-01-05 for each meter: 48 kWh 07-19 local, 12 kWh otherwise.
    await store.write([...dayReadings('main'), ...dayReadings('other')]);
  });
  after(async () => { services.close(); await store.close(); bills.close(); });

  it('stores tariffs (admin only) and checks their JSON field by field', async () => {
    fails(await call('tariffs.create', { token: operator, body: { tariff: flat() } }), 403, /needs the admin role/);
    const created = await call('tariffs.create', { token: admin, body: { id: 'flat', tariff: flat() } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data._id, 'flat');
    assert.equal(created.body.data.tariff.id, 'flat', 'the stored id is the tariff id bills name');
    fails(await call('tariffs.create', { token: admin, body: { id: 'flat2', tariff: flat() } }), 409, /tariff name "Flat" is taken/);
    const bad = { ...flat(), currency: 'euro' };
    fails(await call('tariffs.create', { token: admin, body: { name: 'Bad', tariff: bad } }), 400, /currency: expected an ISO 4217 code such as "EUR", got "euro"/);
    assert.equal((await call('tariffs.create', { token: admin, body: { tariff: touTariff() } })).body.data._id, 'day-night');
    const list = await call('tariffs.list', { token: viewerB });
    assert.deepEqual(list.body.data.map((t: any) => t._id), ['day-night', 'flat']);
    fails(await call('tariffs.get', { token: viewerB, params: { id: 'nope' } }), 404, /unknown tariff "nope"/);
    assert.match(services.events.query({ filter: 'config' })[0].event, /^tariff created: Day\/night$/);
    fails(await call('tariffs.update', { token: admin, params: { id: 'day-night' }, body: { colour: 'red' } }), 400, /unknown field "colour" \(use name, tariff\)/);
    const renamed = await call('tariffs.update', { token: admin, params: { id: 'day-night' }, body: { name: 'Day/night 2026' } });
    assert.deepEqual([renamed.body.data.name, renamed.body.data.tariff.name, renamed.body.data.tariff.versions[0].energy[0].rates.peak], ['Day/night 2026', 'Day/night 2026', '0.40']);
  });

  it('drafts a meter bill from store readings with the tariff bound through its accounting object', async () => {
    fails(await call('bills.meter', { token: admin, params: { id: 'main' }, query: day }), 409, /meter "main" has no tariff: bind one/);
    const obj = await call('objects.create', { token: operator, body: { name: 'Main incomer', meter_id: 'main', tariff_id: 'flat' } });
    assert.equal(obj.status, 201, JSON.stringify(obj.body));
    const r = await call('bills.meter', { token: admin, params: { id: 'main' }, query: day });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const bill = r.body.data;
    assert.equal(bill.status, 'draft');
    assert.equal(bill.from, FROM);
    assert.equal(bill.to, TO);
    assert.equal(bill.tariff.id, 'flat');
    assert.deepEqual(bill.consumption.registers.find((x: any) => x.register === 'total'), { register: 'total', obis: '1-0:1.8.0', quantity: '60', unit: 'kWh' });
    // 60 kWh x 0.25 = 15.00; VAT 20% = 3.00; 18.00.
    assert.deepEqual([bill.totals.energy, bill.totals.taxes, bill.totals.total], ['15.00', '3.00', '18.00']);
    assert.equal(bill.readings.find((x: any) => x.obis === '1-0:1.8.0').opening.value, 1000);
    assert.equal(bill.readings.find((x: any) => x.obis === '1-0:1.8.0').closing.value, 1060);

    // Another tariff on request: peak 48 kWh x 0.40 + valley 12 kWh x 0.20 = 21.60, + 0.50 standing charge
    // = 22.10; VAT 19% = 4.20 (4.199); 26.30.
    const tou = (await call('bills.meter', { token: admin, params: { id: 'main' }, query: { ...day, tariff: 'day-night' } })).body.data;
    assert.deepEqual([tou.totals.energy, tou.totals.fixed, tou.totals.taxes, tou.totals.total], ['21.60', '0.50', '4.20', '26.30']);
    assert.deepEqual(tou.consumption.periods.map((p: any) => [p.period, p.quantity]).sort(), [['peak', '48'], ['valley', '12']]);

    const csv = await call('bills.meter', { token: admin, params: { id: 'main' }, query: { ...day, format: 'csv' } });
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    const rows = String(csv.body).trim().split('\r\n');
    assert.equal(rows.length, 3, 'header, the energy line and VAT');
    assert.match(rows[1], /^draft,bill,main,main,energy,Energy,.*,60,kWh,0.25,15.00,EUR,/);
    const html = await call('bills.meter', { token: admin, params: { id: 'main' }, query: { ...day, format: 'html' } });
    assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(html.body), /<h1>Bill <span class="draft">\(draft\)<\/span><\/h1>/);
  });

  it('refuses bad periods, formats and parameters naming them', async () => {
    fails(await call('bills.meter', { token: admin, params: { id: 'main' }, query: { from: 'yesterday', to: '2026-01-06' } }), 400, /from must be a time .* got "yesterday"/);
    fails(await call('bills.meter', { token: admin, params: { id: 'main' }, query: { from: '2026-01-06', to: '2026-01-05' } }), 400, /to "2026-01-05" is not after from "2026-01-06"/);
    fails(await call('bills.meter', { token: admin, params: { id: 'main' }, query: { ...day, format: 'pdf' } }), 400, /format "pdf" must be one of json, csv, html/);
    fails(await call('bills.meter', { token: admin, params: { id: 'main' }, query: { ...day, step: 'day' } }), 400, /unknown parameter "step"/);
    fails(await call('bills.meter', { token: admin, params: { id: 'main' }, query: { from: '2025-06-01', to: '2025-06-02' } }), 409, /cannot bill meter "main": readings: no billed register reading/);
    fails(await call('bills.meter', { token: admin, params: { id: 'ghost' }, query: day }), 404, /unknown meter "ghost"/);
  });

  it('issues a bill once, refuses changed content until a credit note cancels it, then issues the corrected bill', async () => {
    fails(await call('bills.issue', { token: viewerB, body: { meter: 'other', ...day } }), 403, /needs the operator role/);
    fails(await call('bills.issue', { token: operator, body: { meter: 'main', cost_center: 'x', ...day } }), 400, /give one of meter or cost_center/);
    const first = await call('bills.issue', { token: operator, body: { meter: 'main', ...day } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.data.number, 'B-2026-000001');
    assert.equal(first.body.data.totals.total, '18.00');
    const again = await call('bills.issue', { token: operator, body: { meter: 'main', ...day } });
    assert.equal(again.status, 200);
    assert.equal(again.body.data.number, 'B-2026-000001');

    // The rate rises to 0.30: the draft changes (60 x 0.30 = 18.00 + 3.60 VAT = 21.60), the issued bill does not.
    assert.equal((await call('tariffs.update', { token: admin, params: { id: 'flat' }, body: { tariff: flat('0.30') } })).status, 200);
    fails(await call('bills.issue', { token: operator, body: { meter: 'main', ...day } }), 409, /already has bill B-2026-000001 .* issue a credit note for B-2026-000001 first/);
    const kept = await call('bills.get', { token: admin, params: { number: 'B-2026-000001' } });
    assert.equal(kept.body.data.totals.total, '18.00');

    const credit = await call('bills.credit', { token: operator, params: { number: 'B-2026-000001' }, body: { reason: 'rate corrected' } });
    assert.equal(credit.status, 201, JSON.stringify(credit.body));
    assert.equal(credit.body.data.number, 'CN-2026-000001');
    assert.equal(credit.body.data.references, 'B-2026-000001');
    assert.equal(credit.body.data.totals.total, '-18.00');
    fails(await call('bills.credit', { token: operator, params: { number: 'B-2026-000001' } }), 409, /already credited by CN-2026-000001/);
    fails(await call('bills.credit', { token: operator, params: { number: 'CN-2026-000001' } }), 409, /only a bill can be credited/);

    const corrected = await call('bills.issue', { token: operator, body: { meter: 'main', ...day } });
    assert.equal(corrected.status, 201);
    assert.equal(corrected.body.data.number, 'B-2026-000002');
    assert.equal(corrected.body.data.totals.total, '21.60');

    const list = await call('bills.list', { token: admin, query: { meter: 'main' } });
    assert.deepEqual(list.body.data.map((b: any) => [b.number, b.total]), [['B-2026-000001', '18.00'], ['CN-2026-000001', '-18.00'], ['B-2026-000002', '21.60']]);
    const csv = await call('bills.get', { token: admin, params: { number: 'B-2026-000002' }, query: { format: 'csv' } });
    assert.equal(csv.headers['content-disposition'], 'attachment; filename="B-2026-000002.csv"');
    assert.match(String(csv.body), /\r\nB-2026-000002,bill,main,main,energy,Energy,.*,60,kWh,0.30,18.00,EUR,/);
  });

  it('bills a cost center as the sum of its meters, and refuses deleting a tariff in use', async () => {
    const cc = await call('costcenters.create', { token: admin, body: { name: 'Plant', external_id: 'SAP-4711', tariffs: { electricity: 'flat' }, meters: [{ id: 'main' }, { id: 'other', energyType: 'electricity' }] } });
    assert.equal(cc.status, 201, JSON.stringify(cc.body));
    fails(await call('costcenters.create', { token: admin, body: { name: 'Gas', tariffs: { electricity: 'flat' }, meters: [{ id: 'main', energyType: 'gas' }] } }), 400, /meters\[0\]: meter "main" is gas but tariffs.gas names no tariff/);
    fails(await call('costcenters.create', { token: admin, body: { name: 'Bad', tariffs: { electricity: 'nope' }, meters: ['main'] } }), 400, /tariffs.electricity: "nope" is not a known tariff id/);
    const r = await call('bills.costcenter', { token: admin, params: { id: 'plant' }, query: day });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // Two meters x 60 kWh x 0.30 = 36.00; VAT 20% = 7.20; 43.20.
    assert.deepEqual([r.body.data.totals.energy, r.body.data.totals.taxes, r.body.data.totals.total], ['36.00', '7.20', '43.20']);
    assert.deepEqual(r.body.data.meters.map((b: any) => b.totals.total), ['21.60', '21.60']);
    assert.equal(r.body.data.subject.externalId, 'SAP-4711');

    fails(await call('tariffs.delete', { token: admin, params: { id: 'flat' } }), 409, /tariff "Flat" is in use by object "Main incomer", cost center "Plant"/);
    assert.equal((await call('tariffs.delete', { token: admin, params: { id: 'day-night' } })).status, 200);
  });

  it('shows a viewer only the bills, cost centers and objects of the meters in their folders', async () => {
    fails(await call('bills.meter', { token: viewerB, params: { id: 'main' }, query: day }), 404, /unknown meter "main"/);
    fails(await call('bills.get', { token: viewerB, params: { number: 'B-2026-000001' } }), 404, /unknown bill "B-2026-000001"/);
    assert.deepEqual((await call('bills.list', { token: viewerB })).body.data, []);
    assert.deepEqual((await call('costcenters.list', { token: viewerB })).body.data, [], 'Plant includes main, outside folder B');
    fails(await call('bills.costcenter', { token: viewerB, params: { id: 'plant' }, query: day }), 404, /unknown cost center "plant"/);
    assert.deepEqual((await call('objects.list', { token: viewerB })).body.data, []);
    assert.equal((await call('objects.list', { token: admin })).body.data.length, 1);
    // The viewer's own meter, with a tariff chosen in the request.
    assert.equal((await call('tariffs.create', { token: admin, body: { tariff: touTariff() } })).status, 201);
    const own = await call('bills.meter', { token: viewerB, params: { id: 'other' }, query: { ...day, tariff: 'day-night' } });
    assert.equal(own.body.data.totals.total, '26.30');
  });
});
