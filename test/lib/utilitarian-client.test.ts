/** The Utilitarian client against the simulator: every operation, refusals before sending, pagination bound, JWT renewal. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UtilitarianClient, UtilitarianError, seriesName, obisOfSeries, decimal } from '../../lib/clients/utilitarian';
import { UtilitarianSimulator, DEMO_ORG, DEFAULT_TOKEN } from '../../lib/sim/utilitarian';
import type { Reading } from '../../lib/model';

const T0 = Date.parse('2026-03-01T00:00:00Z');

describe('Utilitarian client', () => {
  let sim: UtilitarianSimulator;
  let url: string;
  let clock = Date.parse('2026-03-01T12:00:00Z');
  let client: UtilitarianClient;

  before(async () => {
    sim = new UtilitarianSimulator({ now: () => clock, pageSize: 3 });
    url = `http://127.0.0.1:${await sim.listen(0)}/v1`;
    client = new UtilitarianClient({ url, token: DEFAULT_TOKEN });
  });
  after(() => sim.close());

  it('maps OBIS codes to series names and back; decimals never in exponent form', () => {
    assert.equal(seriesName('1-0:1.8.0'), '1.0.1.8.0.255');
    assert.equal(seriesName('8-0:1.0.0'), '8.0.1.0.0.255');
    assert.equal(obisOfSeries('1.0.1.8.0.255'), '1-0:1.8.0');
    assert.equal(obisOfSeries('energy'), undefined);
    assert.equal(decimal(1234.567), '1234.567');
    assert.equal(decimal(1e-7), '0.0000001');
    assert.throws(() => seriesName('energy'), /obis: "energy"/);
  });

  it('creates, finds, gets and updates meter devices', async () => {
    const dev = await client.createMeterDevice({ name: 'EL-1', protocol: 'modbus', manufacturer_serial: '12345678' });
    assert.equal(dev.organization, DEMO_ORG, 'the first organization, as none was configured');
    assert.equal((await client.getMeterDevice(dev.id)).manufacturer_serial, '12345678');
    assert.equal((await client.findMeterDevice('EL-1'))?.id, dev.id);
    const upd = await client.updateMeterDevice(dev.id, { has_current_transformer: true, current_transformer_ratio: 30 });
    assert.equal(upd.current_transformer_ratio, 30);
    const listed = await client.listMeterDevices({ manufacturer_serial: '12345678' });
    assert.deepEqual(listed.map((d) => d.name), ['EL-1']);
  });

  it('refuses a request that breaks the spec before sending it, naming the field', async () => {
    const before = sim.requests.length;
    await assert.rejects(client.createMeterDevice({ name: 'x'.repeat(51), protocol: 'modbus' }),
      /refused before sending POST \/metering\/meter-devices: name: Ensure this field has no more than 50 characters\./);
    await assert.rejects(client.createMeterDevice({ name: 'ok', protocol: 'zigbee' }), /protocol: "zigbee" is not a valid choice\./);
    await assert.rejects(client.request('post', '/metering/sim-cards', { iccid: '89AB', imsi: '1' }), /iccid: This value does not match the required pattern\./);
    await assert.rejects(client.invokeTask({ meter_device: 'nope', task_call: 'set_time', meter_execution_type: 'generic_lis200' }), /meter_device: Must be a valid UUID\./);
    await assert.rejects(client.invokeTask({ meter_device: DEMO_ORG, task_call: 'set_time', meter_execution_type: 'lis' }), /meter_execution_type: "lis" is not a valid choice\./);
    assert.equal(sim.requests.filter((r) => r.method !== 'GET').length, sim.requests.slice(0, before).filter((r) => r.method !== 'GET').length, 'no write reached the server');
  });

  it('shows the server\'s message on server-side errors', async () => {
    const err = await client.createMeterDevice({ name: 'EL-1', protocol: 'modbus' }).catch((e) => e);
    assert.ok(err instanceof UtilitarianError);
    assert.equal(err.status, 400);
    assert.match(err.message, /HTTP 400: name: meter device with this Unique name or identification already exists\./);
    await assert.rejects(client.getMeterDevice('00000000-0000-4000-8000-00000000dead'), /HTTP 404: Not found\./);
  });

  it('pushes Readings as meter readings (series created on demand) and pulls them back equal', async () => {
    const readings: Reading[] = [
      { meter: 'EL-1', time: T0, obis: '1-0:1.8.0', value: 1234.567, unit: 'kWh' },
      { meter: 'EL-1', time: T0 + 900_000, obis: '1-0:1.8.0', value: 1235.125, unit: 'kWh' },
      { meter: 'EL-1', time: T0, obis: '1-0:32.7.0', value: 230.1, unit: 'V' },
    ];
    const r = await client.pushReadings(readings);
    assert.deepEqual(r, { readings: 3, staged: 0, devicesCreated: [], seriesCreated: ['1.0.1.8.0.255', '1.0.32.7.0.255'] });
    const series = await client.list('/metering/meter-reading-series', { name: '1.0.1.8.0.255' });
    assert.deepEqual([series[0].unit, series[0].si_multiplier], ['kWh', '3600000']);
    const back = await client.pullReadings('EL-1', { from: T0, to: T0 + 3600_000 });
    assert.deepEqual(back, [readings[0], readings[2], readings[1]]);
    const energyOnly = await client.pullReadings('EL-1', { obis: ['1-0:1.8.0'], from: T0 + 1, meter: 'ems-meter-7' });
    assert.deepEqual(energyOnly, [{ ...readings[1], meter: 'ems-meter-7' }]);
  });

  it('stages readings of unknown meters; creating the device promotes them', async () => {
    const r = await client.pushReadings([{ meter: 'GAS-9', time: T0, obis: '7-0:3.0.0', value: 42.5, unit: 'm3' }], { unknown: 'stage' });
    assert.equal(r.staged, 1);
    assert.deepEqual((await client.list('/metering/staged-meter-readings', { meter_device_name: 'GAS-9' })).map((s) => [s.series_name, s.value]), [['7.0.3.0.0.255', '42.5']]);
    await client.ensureSeries('7-0:3.0.0', 'm3');
    await client.createMeterDevice({ name: 'GAS-9', protocol: 'mbus' });
    assert.deepEqual(await client.pullReadings('GAS-9'), [{ meter: 'GAS-9', time: T0, obis: '7-0:3.0.0', value: 42.5, unit: 'm3' }]);
    const created = await client.pushReadings([{ meter: 'HEAT-1', time: T0, obis: '6-0:1.0.0', value: 3.25, unit: 'GJ' }], { unknown: 'create', protocol: 'mbus' });
    assert.deepEqual(created.devicesCreated, ['HEAT-1']);
    assert.equal((await client.findMeterDevice('HEAT-1'))?.protocol, 'mbus');
    assert.equal(await client.newMeterReadings([{ meter: 'HEAT-1', time: T0 + 3600_000, obis: '6-0:1.0.0', value: 3.5, unit: 'GJ' }]), 1);
    assert.deepEqual((await client.pullReadings('HEAT-1')).map((x) => x.value), [3.25, 3.5]);
  });

  it('follows next links across pages, up to the page and item bounds', async () => {
    for (let i = 0; i < 8; i++) await client.request('post', '/metering/sim-cards', { organization: DEMO_ORG, iccid: `894600000000000${i}`, imsi: `24001000000000${i}` });
    const n = sim.requests.length;
    const all = await client.list('/metering/sim-cards');
    assert.equal(all.length, 8);
    assert.equal(sim.requests.length - n, 3, 'page size 3: three pages');
    assert.equal((await client.list('/metering/sim-cards', {}, { maxPages: 2 })).length, 6);
    assert.equal((await client.list('/metering/sim-cards', {}, { maxItems: 4 })).length, 4);
  });

  it('reads system events and invokes an AMR task', async () => {
    const dev = await client.findMeterDevice('EL-1');
    assert.deepEqual(await client.invokeTask({ meter_device: dev!.id, task_call: 'set_time', meter_execution_type: 'generic_corus_meter', task_kwargs: {} }), { invoked: true });
    const events = await client.listEvents({ meter_device: dev!.id });
    assert.deepEqual(events.map((e) => e.title), ['set_time']);
    await assert.rejects(client.invokeTask({ meter_device: dev!.id, task_call: 'read_archive_by_date', meter_execution_type: 'generic_corus_meter' }),
      /HTTP 400: task_call: "read_archive_by_date" is not a valid task call for generic_corus_meter\./);
  });

  it('JWT with user and password: read-only, renewed before it expires, logs in again after expiry', async () => {
    const jwtClient = new UtilitarianClient({ url, username: 'reader', password: 'reader-pass', now: () => clock });
    assert.ok((await jwtClient.listMeterDevices()).length >= 2);
    const tokens = () => sim.requests.filter((r) => /auth\/jwt\/(token|renew)/.test(r.path)).map((r) => r.path.replace(/^\/v1\/auth\/jwt\//, ''));
    const before = tokens().length;
    clock += 1100_000; // 100 s left of 1200: renew
    await jwtClient.listMeterDevices();
    clock += 1300_000; // expired: log in again
    await jwtClient.listMeterDevices();
    assert.deepEqual(tokens().slice(before), ['renew/', 'token/']);
    await assert.rejects(jwtClient.createMeterDevice({ name: 'jwt', protocol: 'mbus' }), /HTTP 403: You do not have permission to perform this action\./);
    await assert.rejects(new UtilitarianClient({ url, username: 'reader', password: 'bad' }).listMeterDevices(), /HTTP 400: non_field_errors: Unable to log in with provided credentials\./);
    assert.throws(() => new UtilitarianClient({ url: 'ftp://x', token: 'a' }), /url: "ftp:\/\/x"/);
  });
});
