import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import { LorawanPlatformClient, LorawanPlatformError, meterConnection, toReading } from '../../lib/clients/lorawan-platform';

const DAY = 86_400_000;

describe('LoRaWAN platform client against the simulator', () => {
  const clock = { t: Date.UTC(2026, 5, 1) };
  let sim: LorawanPlatformSimulator;
  let url: string;
  before(async () => {
    sim = new LorawanPlatformSimulator({ now: () => clock.t, tokenTtlMs: 30 * DAY });
    url = `http://127.0.0.1:${await sim.listen(0)}/internal/commonInternal.jsp`;
  });
  after(() => sim.close());

  it('logs in once, sends each method\'s argument key as the document does, and keeps the apiToken', async () => {
    const c = new LorawanPlatformClient({ url, username: 'karly', password: '123456' });
    assert.equal((await c.areas()).length, 6);
    const meters = await c.meters({ areaId: 3 });
    assert.deepEqual(meters.map((m) => m.id).sort(), [2419, 2421]);
    await c.realTime('8cf9572000010105');
    const log = sim.requests.slice(-4);
    assert.deepEqual(log.map((r) => [r.method, r.argKey]), [['toLogin', 'params'], ['getAreaOrg', 'param'], ['getAreaArchives', 'params'], ['queryRealTimeData', 'param']]);
    assert.ok(log.slice(1).every((r) => typeof r.apiToken === 'string' && r.apiToken.length === 32));
    assert.equal(log[2].params.pageNumber, '1', 'numbers travel as strings');
  });

  it('logs in again once when the session expired (errcode -31) and retries', async () => {
    const c = new LorawanPlatformClient({ url, username: 'karly', password: '123456' });
    await c.valveStatus('8cf9572000010106');
    sim.expireSessions();
    assert.equal(await c.valveStatus('8cf9572000010106'), 1);
    assert.deepEqual(sim.requests.slice(-4).map((r) => r.method), ['readValveStatus', 'readValveStatus', 'toLogin', 'readValveStatus']);
  });

  it('names the method, errcode and errmsg of a refusal', async () => {
    const c = new LorawanPlatformClient({ url, username: 'karly', password: '123456' });
    await assert.rejects(c.setValve('8cf9572000019999', false), (e: LorawanPlatformError) => {
      assert.equal(e.message, 'lorawan-platform setValveState failed: errcode -1: devEui 8cf9572000019999 is not archived');
      assert.equal(e.errcode, '-1');
      return true;
    });
    const bad = new LorawanPlatformClient({ url, username: 'karly', password: 'nope' });
    await assert.rejects(bad.prices(), /toLogin failed: errcode -31: wrong username or password/);
    const token = new LorawanPlatformClient({ url, apiToken: 'deadbeef' });
    await assert.rejects(token.prices(), /readAllPricesV2 failed: errcode -31: apiToken is invalid/);
  });

  it('reads a meter into canonical Readings: water m3, gas m3, electricity kWh, heat kWh -> GJ', async () => {
    const c = new LorawanPlatformClient({ url, username: 'karly', password: '123456' });
    clock.t += DAY;
    const water = await c.readMeter('ems-1', '8cf9572000010105');
    assert.deepEqual(water.readings, [{ meter: 'ems-1', time: Date.UTC(2026, 5, 2), obis: '8-0:1.0.0', value: 110, unit: 'm3' }]);
    assert.deepEqual((await c.readMeter('ems-2', '20200103111100')).readings[0], { meter: 'ems-2', time: Date.UTC(2026, 5, 2), obis: '7-0:3.0.0', value: 251.7, unit: 'm3' });
    assert.equal((await c.readMeter('ems-3', '2421')).readings[0].obis, '1-0:1.8.0');
    const heat = (await c.readMeter('ems-4', '8cf9572000010104')).readings[0];
    assert.equal(heat.unit, 'GJ');
    assert.equal(heat.value, 12.4128); // (3400 + 48) kWh x 0.0036
    await assert.rejects(c.readMeter('ems-5', '8cf95720000fffff'), /meter number "8cf95720000fffff" is not on the platform/);
    assert.deepEqual(toReading('m', 'ELECTRICITY', '12.5', 0), { meter: 'm', time: 0, obis: '1-0:1.8.0', value: 12.5, unit: 'kWh' });
  });

  it('pages until a short page', async () => {
    const c = new LorawanPlatformClient({ url, username: 'karly', password: '123456' });
    const rows = await c.pages('getMeterReadings', { areaId: 3, startDate: '2026-06-01 00:00:00', endDate: '2026-06-03 00:00:00' }, 50);
    assert.equal(rows.length, 2 * 96, 'two meters in area 3, one uplink every 15 min for a day');
  });

  it('turns an EMS meter definition into a connection (and refuses bad ones naming the field)', () => {
    const c = meterConnection({ ip_address: 'platform.example', port: 8080, profile: '', number_meter: '8cf9572000010105', password: 'karly:12:34' });
    assert.deepEqual(c.options, { url: 'http://platform.example:8080/api/commonInternal.jsp', username: 'karly', password: '12:34', apiToken: undefined });
    const t = meterConnection({ ip_address: 'p.example', port: 443, profile: '/internal/commonInternal.jsp', number_meter: '1', password: 'tok123' });
    assert.deepEqual([t.options.url, t.options.apiToken], ['https://p.example/internal/commonInternal.jsp', 'tok123']);
    assert.throws(() => meterConnection({ ip_address: 'h', port: 80, number_meter: '' }), /number_meter ""/);
    assert.throws(() => meterConnection({ ip_address: 'h', port: 80, number_meter: '1', profile: 'api' }), /profile "api" must be the platform's URL path/);
    assert.throws(() => meterConnection({ ip_address: 'h', port: 80, number_meter: '1', password: '' }), /no platform credentials/);
  });
});
