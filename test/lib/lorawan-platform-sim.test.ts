import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SAMPLES: { request: string; response: string }[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/lorawan-platform/seed-samples.json'), 'utf8'));
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 1, 1); // 2026-02-01 00:00 UTC

function sim(tokenTtlMs = 365 * DAY) {
  const clock = { t: T0 };
  const s = new LorawanPlatformSimulator({ now: () => clock.t, tokenTtlMs });
  const login = s.handle({ action: 'comApi', method: 'toLogin', params: { username: 'karly', password: '123456' } });
  const token = (login.body.value as any).apiToken as string;
  const call = (method: string, param: Record<string, unknown> = {}, action = 'comApi', key = 'param') =>
    s.handle({ action, method, [key]: param, apiToken: token }).body as any;
  return { s, clock, call, token, login };
}
const strip = (text: string) => text.replace(/<\/?(pre|code)>/g, '').replace(/\n/g, ' ').replace(/\s+from\s*$/, '');

describe('LoRaWAN platform simulator: the document\'s samples', () => {
  // The seed's own requests, verbatim, in document order; what the simulator answers.
  const expected: [string, string, RegExp?][] = [
    ['getAreaOrg', '0'], ['addMeterPrice', '0'],
    ['addMeterPrice', '-1', /energyType is required/], // the "Edit" sample is an addMeterPrice without energyTypes
    ['readAllPrices', '0'], ['readAllPricesV2', '0'], ['addMeter', '0'],
    ['modifyMeter', '-1', /gasType "meterType" must be a whole number from 0 to 3/], // the sample sends the placeholder "meterType": "meterType"
    ['getAreaArchives', '-1', /not valid JSON/], // the sample's JSON is broken: "searchContent":""," "sysconfigEquipmentId"
    ['getAreaArchiveInfo', '-1', /id 2410 is not a known meter/], ['gethousehold', '0'], ['addHousehold', '0'],
    ['modifyHousehold', '0'], ['getMeterReadings', '0'], ['getValverecord', '0'], ['queryMonthBillInfo', '0'], ['toLogin', '0'],
    ['addGateway', '0'], ['modifyGateway', '0'], ['readGatewayStatus', '0'], ['addMeter', '0'], ['queryRealTimeData', '0'],
    ['queryAllDailyConsumption', '0'], ['queryAllMonthlyConsumption', '0'], ['readValveStatus', '0'], ['remotelyTopUp', '0'],
    ['getPaymod', '0'], ['queryPayorders', '0'], ['archivesChange', '0'], ['archivesChange', '0'], ['archivesChange', '0'],
    ['setValveState', '-1', /valveState "0\/1" must be a whole number from 0 to 1/], ['sendCommand', '0'],
  ];

  it('answers each of the 32 sample requests as documented (errcode as text, the documented keys)', () => {
    const { s, login } = sim();
    const cookie = /JSESSIONID=([^;]+)/.exec(login.setCookie!)![1];
    assert.equal(SAMPLES.length, expected.length);
    const bodies: any[] = [];
    SAMPLES.forEach((sample, i) => {
      const [method, errcode, message] = expected[i];
      const text = strip(sample.request);
      assert.match(text, new RegExp(`"method":\\s*"${method}"`));
      const body = s.handle(text, cookie).body as any;
      bodies.push(body);
      assert.equal(body.errcode, errcode, `${method}: ${JSON.stringify(body)}`);
      if (message) assert.match(body.errmsg, message);
    });
    assert.deepEqual(bodies[0].data.slice(0, 2), [{ areaid: 3, areaName: 'Dubai Festival City', parentId: 0 }, { areaid: 4, areaName: 'WAHA Community', parentId: 3 }]);
    assert.deepEqual(bodies[1], { errcode: '0', errmsg: 'Added successfully!!', priceId: '16' });
    const v2 = bodies[4].data;
    assert.deepEqual(v2.find((p: any) => p.pricelid === 9), { pricelid: 9, priceName: 'water_price', createDate: '2018-11-13', energyType: 'WATER', price: 2 });
    assert.deepEqual(v2.find((p: any) => p.pricelid === 12), { pricelid: 12, priceName: 'elec_price', createDate: '2019-06-01', energyType: 'ELECTRICITY', flatPrice: 1.1, peakPrice: 1.1, valleyPrice: 1.1, tipPrice: 1.1 });
    assert.deepEqual(bodies[10], { errcode: '0', errmsg: 'succeed', householdId: 45 });
    assert.deepEqual(bodies[11], { errcode: '0', errmsg: 'succeed', householdId: 45 });
    assert.deepEqual(Object.keys(bodies[15].value).slice(0, 7), ['adminId', 'email', 'username', 'name', 'telPhone', 'manageArea', 'equipmentModel']);
    assert.deepEqual(Object.keys(bodies[18].data), ['gwID', 'gwName', 'gwType', 'enableClassB', 'enablePFW', 'region', 'subnet', 'online', 'mqtt', 'latitude', 'longitude', 'altitude', 'createtime']);
    assert.deepEqual(Object.keys(bodies[20].data), ['devEui', 'readTime', 'cumulantFlow', 'positiveCumulantFlow', 'inverseCumulantFlow', 'instantFlow']);
    assert.equal(bodies[21].data.length, 2, 'two devEuis, comma-separated: one usage record each');
    assert.match(bodies[24].valueId, /^\d+$/);
    assert.deepEqual(bodies[25].data.map((d: any) => [d.devEui, d.paymod, d.code]), [['8cf9572000010105', 1, 200], ['8cf9572000010106', 0, 200]]);
    assert.equal(bodies[26].code, 300, 'queryPayorders for an unknown meter');
    assert.deepEqual(bodies[27].data.map((d: any) => [d.devEui, d.type, d.code]), [['8cf9572000010105', '0', 200], ['8cf9572000010106', '0', 200]]);
    assert.deepEqual(bodies[28].data.map((d: any) => [d.oldDeveui, d.code]), [['8cf9572000010106', 300]], 'a removed meter cannot be replaced');
    assert.deepEqual(bodies[29].data.map((d: any) => d.code), [200, 200], 'recovered');
  });

  it('answers the repaired archive-list sample with the documented row', () => {
    const { call } = sim();
    const body = call('getAreaArchives', { energyType: 'WATER', pageNumber: '1', pageSize: '1', areald: '3', searchContent: '', sysconfigEquipmentId: '' }, 'comApi', 'params');
    assert.equal(body.errcode, '0');
    assert.deepEqual(body.pageInfo, { pageTotal: 1, pageNumber: 1, pageSize: 1 });
    const row = body.values[0];
    assert.deepEqual(Object.keys(row).slice(0, 12), ['id', 'customerName', 'customerSerialnumber', 'serialnumber', 'areaOrgId', 'areaOrgName', 'readings', 'valveStatus', 'energyType', 'phone', 'balance', 'equipmentModelId']);
    assert.equal(row.readings, '100.0000');
    assert.equal(row.balance, 150);
  });
});

describe('LoRaWAN platform simulator: business rules', () => {
  it('charges a prepaid meter dosage x price, closes the valve below the overdraft and reopens it on top-up', () => {
    const { clock, call } = sim();
    // 8cf9572000010105: water, prepaid (gasType 1), 10 m3/day, price plan 2 at 5 per m3, balance 150, overdraft 0.
    clock.t = T0 + 3 * DAY;
    let row = call('getAreaArchiveInfo', { id: 2419 }).value;
    assert.equal(row.readings, '130.0000'); // 100 + 3 x 10
    assert.equal(row.balance, 0); // 150 - 30 x 5: not below 0, the valve stays open
    assert.equal(row.valveStatus, 1);
    clock.t += 15 * 60_000; // one more uplink: 10 x 15/1440 = 0.1042 m3 -> 0.521
    row = call('getAreaArchiveInfo', { id: 2419 }).value;
    assert.equal(row.readings, '130.1042');
    assert.equal(row.balance, -0.52);
    assert.equal(row.valveStatus, 0);
    clock.t += DAY;
    assert.equal(call('getAreaArchiveInfo', { id: 2419 }).value.readings, '130.1042', 'a closed valve stops the flow');
    assert.equal(call('readValveStatus', { devEui: '8cf9572000010105' }, 'lorawanApi').data, 0);
    const top = call('remotelyTopUp', { devEui: '8cf9572000010105', topUpAmount: '100' }, 'lorawanApi');
    assert.equal(top.errcode, '0');
    row = call('getAreaArchiveInfo', { id: 2419 }).value;
    assert.equal(row.balance, 99.48); // -0.521 + 100
    assert.equal(row.valveStatus, 1);
    const records = call('getValverecord', { areaId: '3', startDate: '2026-02-01 00:00:00', endDate: '2026-02-28 00:00:00' }, 'comApi', 'params');
    assert.deepEqual(records.values.map((r: any) => [r.executionType, r.dateTime, r.status]), [[1, '2026-02-05 00:15:00', 'succeed'], [0, '2026-02-04 00:15:00', 'succeed']]);
    assert.equal(records.values[0].valueId, Number(top.valueId));
    const orders = call('queryPayorders', { devEuis: ['8cf9572000010105'] }, 'lorawanApi');
    assert.deepEqual(orders.values.map((o: any) => [o.fee, o.state]), [[100, 2]]);
  });

  it('bills a month as dosage x price: 28 m3 x 5 = 140 for February (the document\'s sample)', () => {
    const { clock, call } = sim();
    assert.equal(call('addMeter', { devEui: '8cf9572000015514', customerName: 'DIPMeter041', pricelId: '2', normalDayDosage: '1', valveState: '1', meterType: '0', areald: '8' }).errcode, '0');
    clock.t = Date.UTC(2026, 2, 2);
    const bills = call('queryMonthBillInfo', { areaid: '8', billDate: '2026-02', energyType: 'WATER' }, 'comApi', 'params');
    assert.equal(bills.errcode, '0');
    assert.deepEqual(bills.values.map((b: any) => [b.customerName, b.dosage, b.fee, b.energyType, b.billStatus, b.settlementDate]), [['DIPMeter041', '28', 140, 0, '0', '2026-02']]);
    const daily = call('queryAllDailyConsumption', { devEui: '8cf9572000015514', date: '2026-02-10' }, 'lorawanApi');
    assert.equal(daily.data.consumption, '1.0000');
    assert.equal(call('queryAllMonthlyConsumption', { devEui: '8cf9572000015514', date: '2026-02' }, 'lorawanApi').data.consumption, '28.0000');
    assert.equal(call('queryAllMonthlyConsumption', { devEui: '8cf9572000015514', date: '' }, 'lorawanApi').data.date, '2026-03', 'empty date = this month');
  });

  it('derives the payment mode from gasType (even postpaid, odd prepaid) and refuses top-ups of postpaid meters', () => {
    const { call } = sim();
    const mode = call('getPaymod', { devEuis: '8cf9572000010106,8cf9572000010104,8cf9572000099999' }, 'lorawanApi');
    assert.deepEqual(mode.data.map((d: any) => [d.paymod, d.code]), [[0, 200], [1, 200], [2, 300]]);
    assert.match(call('remotelyTopUp', { devEui: '8cf9572000010106', topUpAmount: '10' }, 'lorawanApi').errmsg, /postpaid/);
    assert.match(call('remotelyTopUp', { devEui: '8cf9572000010104', topUpAmount: '-5' }, 'lorawanApi').errmsg, /topUpAmount "-5" must be more than 0/);
  });

  it('accepts every spelling of the contradictions: param/params, priceId/priceld/pricelId, areaId/areald/areaid', () => {
    const { call } = sim();
    for (const [key, name] of [['priceId', 'a'], ['priceld', 'b'], ['pricelId', 'c'], ['pricelid', 'd']]) {
      const body = call('modifyMeterPrice', { [key]: '9', priceName: `water_${name}`, price: '3' }, 'comApi', key === 'priceld' ? 'params' : 'param');
      assert.deepEqual(body, { errcode: '0', errmsg: 'success message', priceld: '9' });
    }
    for (const key of ['areaId', 'areald', 'areaid']) assert.equal(call('getAreaArchives', { [key]: '39' }, 'comApi', 'params').pageInfo.pageTotal, 2);
    assert.equal(call('getAreaArchives', {}, 'comApi', 'params').errmsg, 'areaId is required');
    assert.equal(call('addMeterPrice', { energyTypes: 'STEAM', priceName: 'x', price: '1' }, 'comApi', 'params').errmsg, 'energyType "STEAM" must be one of WATER, ELECTRICITY, HEATING, GAS, LIQUEFIEDGAS');
    assert.match(call('addMeterPrice', { energyTypes: 'GAS', priceName: 'gas_price', price: '1' }, 'comApi', 'params').errmsg, /already exists/);
    assert.match(call('addMeter', { devEui: '8cf95720', pricelid: 2, areald: 8 }).errmsg, /devEui "8cf95720" must be 16 hexadecimal/);
    assert.match(call('addMeter', { devEui: '8cf9572000010105', pricelid: 2, areald: 8 }).errmsg, /already archived/);
  });

  it('requires a session, an apiToken or inline credentials (-31 otherwise); tokens expire', () => {
    const { s, clock, token } = sim(2 * 3600_000);
    const q = { action: 'lorawanApi', method: 'readValveStatus', param: { devEui: '8cf9572000010106' } };
    assert.deepEqual(s.handle(q).body, { errcode: '-31', errmsg: 'not logged in' });
    assert.equal(s.handle({ ...q, apiToken: token }).body.errcode, '0');
    assert.equal(s.handle({ action: 'comApi', method: 'getAreaOrg', param: { username: 'test', password: 'test' } }).body.errcode, '0');
    assert.deepEqual(s.handle({ action: 'comApi', method: 'toLogin', params: { username: 'karly', password: 'x' } }).body, { errcode: '-31', errmsg: 'wrong username or password' });
    clock.t += 3 * 3600_000;
    assert.deepEqual(s.handle({ ...q, apiToken: token }).body, { errcode: '-31', errmsg: 'session expired, log in again' });
    assert.equal(s.handle({ action: 'nope', method: 'x' }).body.errcode, '-1');
  });

  it('serves both URL paths by GET query, POST form and raw JSON, always HTTP 200', async () => {
    const s = new LorawanPlatformSimulator();
    const port = await s.listen(0);
    try {
      const rp = JSON.stringify({ action: 'comApi', method: 'getAreaOrg', param: { username: 'karly', password: '123456' } });
      const a = await fetch(`http://127.0.0.1:${port}/internal/commonInternal.jsp?requestParams=${encodeURIComponent(rp)}`);
      assert.equal(a.status, 200);
      assert.equal((await a.json()).errcode, '0');
      const b = await fetch(`http://127.0.0.1:${port}/api/commonInternal.jsp`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ requestParams: rp }) });
      assert.equal((await b.json()).data.length, 6);
      const c = await fetch(`http://127.0.0.1:${port}/api/commonInternal.jsp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rp });
      assert.equal((await c.json()).errcode, '0');
      const d = await fetch(`http://127.0.0.1:${port}/api/commonInternal.jsp`, { method: 'POST', body: 'requestParams=%7Bbroken' , headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(d.status, 200);
      assert.match((await d.json()).errmsg, /not valid JSON/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      await s.close();
    }
  });

  it('provisions gateways and LoRaWAN devices with the documented checks', () => {
    const { call } = sim();
    assert.equal(call('addGateway', { gwID: 'b827ebffed580480', gwName: 'Gate_2' }, 'lorawanApi').errcode, '0');
    assert.match(call('addGateway', { gwID: 'b827ebffed580480', gwName: 'Gate_2' }, 'lorawanApi').errmsg, /already exists/);
    assert.match(call('addGateway', { gwID: 'zz', gwName: 'G' }, 'lorawanApi').errmsg, /gwID "zz" must be 16 hexadecimal/);
    assert.match(call('addMeter', { appID: '3', devName: 'M1', devEUI: '8cf9572000010199', appEUI: '8cf9572000010199', authType: 'abp', devAddr: '0001' }, 'lorawanApi').errmsg, /devAddr "0001" must be 8 hexadecimal/);
    assert.equal(call('readGatewayStatus', { gwID: '31b977ffe398501' }, 'lorawanApi').data.region, 'cn470');
    assert.equal(call('sendCommand', { devEui: '8cf9572000010105', commandStr: 'Self destruct' }, 'lorawanMeterApi').errcode, '-1');
    const v = call('setValveState', { devEui: '8cf9572000010106', valveState: '0' }, 'lorawanMeterApi');
    assert.equal(call('queryCommandResult', { valueId: v.valueId }, 'lorawanMeterApi').data.state, 'succeed');
  });
});
