/** The Utilitarian simulator's behaviour (digest 002 §7): auth, paths, pagination, validation, readings. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UtilitarianSimulator, DEMO_ORG, DEFAULT_TOKEN, utilitarianCli } from '../../lib/sim/utilitarian';

describe('Utilitarian simulator', () => {
  let sim: UtilitarianSimulator;
  let base: string;
  let clock = Date.parse('2026-03-01T12:00:00Z');
  const TOKEN = `Token ${DEFAULT_TOKEN}`;

  async function api(method: string, path: string, body?: unknown, auth = TOKEN) {
    const res = await fetch(`${base}${path}`, { method, headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }
  const jwtFor = async (username = 'reader', password = 'reader-pass') => (await api('POST', '/v1/auth/jwt/token/', { username, password }, '')).body.token as string;

  before(async () => {
    sim = new UtilitarianSimulator({ now: () => clock });
    base = `http://127.0.0.1:${await sim.listen(0)}`;
  });
  after(() => sim.close());

  it('serves every path with and without the /v1 prefix and the trailing slash', async () => {
    for (const p of ['/v1/metering/meter-devices', '/v1/metering/meter-devices/', '/metering/meter-devices', '/v1/organizations', '/organizations/', '/v1/metering/amr-tasks']) {
      const r = await api('GET', p);
      assert.equal(r.status, 200, p);
      assert.deepEqual(Object.keys(r.body), ['count', 'next', 'previous', 'results']);
    }
    assert.equal((await api('GET', '/v1/metering/metering/meter-devices')).status, 404, 'the basePath is never doubled');
  });

  it('401 without credentials (WWW-Authenticate: Token), 401 for a bad key', async () => {
    const r = await api('GET', '/v1/metering/meter-devices', undefined, '');
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { detail: 'Authentication credentials were not provided.' });
    assert.equal(r.headers.get('www-authenticate'), 'Token');
    assert.deepEqual((await api('GET', '/v1/metering/meter-devices', undefined, 'Token 0000')).body, { detail: 'Invalid token.' });
  });

  it('limit/offset pagination: count, absolute next/previous URLs', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await api('POST', '/v1/metering/meter-reading-series', { organization: DEMO_ORG, name: `page-${i}`, unit: 'kWh' })).status, 201);
    const p1 = await api('GET', '/v1/metering/meter-reading-series?limit=2');
    assert.equal(p1.body.count, 5);
    assert.deepEqual(p1.body.results.map((s: any) => s.name), ['page-0', 'page-1']);
    assert.equal(p1.body.next, `${base}/v1/metering/meter-reading-series?limit=2&offset=2`);
    assert.equal(p1.body.previous, null);
    const p3 = await api('GET', '/v1/metering/meter-reading-series?limit=2&offset=4');
    assert.deepEqual(p3.body.results.map((s: any) => s.name), ['page-4']);
    assert.equal(p3.body.next, null);
    assert.equal(p3.body.previous, `${base}/v1/metering/meter-reading-series?limit=2&offset=2`);
    assert.equal((await api('GET', '/v1/metering/meter-reading-series?name=page-3')).body.count, 1);
  });

  it('field validation answers DRF field errors', async () => {
    const r = await api('POST', '/v1/metering/sim-cards', { iccid: '8946A', imsi: '1234567890123456', external_system_link: 'not a url' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      iccid: ['This value does not match the required pattern.'],
      imsi: ['Ensure this field has no more than 15 characters.'],
      external_system_link: ['Enter a valid URL.'],
    });
    const missing = await api('POST', '/v1/metering/meter-readings', { organization: DEMO_ORG, value: 'abc' });
    assert.deepEqual(missing.body, { meter_device: ['This field is required.'], series: ['This field is required.'], timestamp: ['This field is required.'], value: ['A valid number is required.'] });
    const ref = await api('POST', '/v1/metering/meter-devices', { name: 'ref', protocol: 'mbus', type: '11111111-1111-4111-8111-111111111111' });
    assert.deepEqual(ref.body, { type: ['Invalid pk "11111111-1111-4111-8111-111111111111" - object does not exist.'] });
    assert.equal((await api('POST', '/v1/metering/meter-devices', { name: 'dup', protocol: 'mbus' })).status, 201);
    assert.deepEqual((await api('POST', '/v1/metering/meter-devices', { name: 'dup', protocol: 'mbus' })).body, { name: ['meter device with this Unique name or identification already exists.'] });
    assert.deepEqual((await api('POST', '/v1/metering/meter-devices', { name: 'hex', protocol: 'dlms-cosem', dlms_system_title: 'XYZ' })).body, { dlms_system_title: ['This value does not match the required pattern.'] });
  });

  it('network interface host: fqdn > static IP > the SIM card IP; NI blocked during an invoked task', async () => {
    const sim1 = (await api('POST', '/v1/metering/sim-cards', { organization: DEMO_ORG, iccid: '8946000000000000001', imsi: '240010000000001', ip_address: '10.20.0.7' })).body;
    const ni = (await api('POST', '/v1/metering/network-interfaces', { organization: DEMO_ORG, sim: sim1.id, port: 4059, can_block: true })).body;
    assert.equal(ni.host, '10.20.0.7');
    assert.equal((await api('PATCH', `/v1/metering/network-interfaces/${ni.id}`, { static_ip_address: '192.168.1.5' })).body.host, '192.168.1.5');
    assert.equal((await api('PATCH', `/v1/metering/network-interfaces/${ni.id}`, { fqdn: 'meter098765.mydomain.com' })).body.host, 'meter098765.mydomain.com');
    const dev = (await api('POST', '/v1/metering/meter-devices', { organization: DEMO_ORG, name: 'lis-1', protocol: 'lis-200', network_interface: ni.id })).body;
    assert.equal(dev.network_interface_info.host, 'meter098765.mydomain.com');
    const inv = await api('POST', '/v1/metering/amr-tasks/invoke', { meter_device: dev.id, task_call: 'set_time', meter_execution_type: 'generic_lis200' });
    assert.equal(inv.status, 201);
    const after = (await api('GET', `/v1/metering/network-interfaces/${ni.id}`)).body;
    assert.equal(after.is_blocked, false);
    assert.equal(after.block_time, '2026-03-01T12:00:00Z');
    const events = (await api('GET', `/v1/metering/meter-system-events?meter_device=${dev.id}`)).body.results;
    assert.deepEqual(events.map((e: any) => e.title), ['set_time']);
    const bad = await api('POST', '/v1/metering/amr-tasks/invoke', { meter_device: dev.id, task_call: 'read_database', meter_execution_type: 'generic_lis200' });
    assert.deepEqual(bad.body, { task_call: ['"read_database" is not a valid task call for generic_lis200.'] });
  });

  it('readings: UTC on save, only allowed series, list is {timestamp, value} by time', async () => {
    const energy = (await api('POST', '/v1/metering/meter-reading-series', { organization: DEMO_ORG, name: '1.0.1.8.0.255', unit: 'kWh', si_multiplier: '3600000' })).body;
    const power = (await api('POST', '/v1/metering/meter-reading-series', { organization: DEMO_ORG, name: '1.0.1.7.0.255', unit: 'kW' })).body;
    const cfg = (await api('POST', '/v1/metering/meter-device-configs', { organization: DEMO_ORG, name: 'energy only', series: [energy.id] })).body;
    assert.equal(cfg.timezone, 'UTC');
    const type = (await api('POST', '/v1/metering/meter-device-types', { organization: DEMO_ORG, name: 'E650', manufacturer: 'L+G', manufacturer_model: 'ZMD', config: cfg.id })).body;
    const dev = (await api('POST', '/v1/metering/meter-devices', { organization: DEMO_ORG, name: 'EL-000123', protocol: 'dlms-cosem', type: type.id })).body;
    const post = (series: string, timestamp: string, value: unknown) => api('POST', '/v1/metering/meter-readings', { organization: DEMO_ORG, meter_device: dev.id, series, timestamp, value });
    const r1 = await post(energy.id, '2020-01-15T07:00:00+01:00', '1234.567');
    assert.equal(r1.status, 201);
    assert.equal(r1.body.timestamp, '2020-01-15T06:00:00Z');
    assert.equal(r1.body.value, '1234.567');
    assert.equal((await post(energy.id, '2020-01-15T05:00:00Z', 1230.5)).status, 201);
    const refused = await post(power.id, '2020-01-15T06:00:00Z', '1');
    assert.equal(refused.status, 400);
    assert.deepEqual(Object.keys(refused.body), ['series']);
    const list = await api('GET', `/v1/metering/meter-readings?meter_device=${dev.id}&series=${energy.id}&start_time=2020-01-15T04:00:00Z`);
    assert.deepEqual(list.body.results, [{ timestamp: '2020-01-15T05:00:00Z', value: '1230.5' }, { timestamp: '2020-01-15T06:00:00Z', value: '1234.567' }]);
    assert.equal((await api('GET', `/v1/metering/meter-readings?meter_device=${dev.id}&end_time=2020-01-15T05:30:00`)).body.count, 1, 'a naive end_time is UTC');
    assert.equal((await api('PUT', `/v1/metering/meter-readings/${r1.body.id}`, {})).status, 405);
  });

  it('new meter readings for an unknown device are staged, and promoted when the device is created', async () => {
    const body = [
      { meter_device_name: 'EL-NEW', series_name: '1.0.1.8.0.255', timestamp: '2020-02-01T00:00:00Z', value: '10.5' },
      { meter_device_name: 'EL-NEW', series_name: '1.0.1.8.0.255', timestamp: '2020-02-01T01:00:00Z', value: '11.25' },
    ];
    const r = await api('POST', '/v1/metering/new-meter-readings', body);
    assert.equal(r.status, 201);
    assert.equal((await api('GET', '/v1/metering/staged-meter-readings?meter_device_name=EL-NEW')).body.count, 2);
    const dev = (await api('POST', '/v1/metering/meter-devices', { organization: DEMO_ORG, name: 'EL-NEW', protocol: 'modbus' })).body;
    assert.equal((await api('GET', '/v1/metering/staged-meter-readings?meter_device_name=EL-NEW')).body.count, 0);
    const got = await api('GET', `/v1/metering/meter-readings?meter_device=${dev.id}`);
    assert.deepEqual(got.body.results.map((x: any) => x.value), ['10.5', '11.25']);
    const bad = await api('POST', '/v1/metering/new-meter-readings', [{ meter_device_name: 'EL-NEW', series_name: '', timestamp: 'yesterday', value: '1' }]);
    assert.deepEqual(bad.body, [{ series_name: ['This field may not be blank.'], timestamp: ['Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'] }]);
  });

  it('security keys: the master key is accepted and never returned', async () => {
    const dev = (await api('POST', '/v1/metering/meter-devices', { organization: DEMO_ORG, name: 'keyed', protocol: 'dlms-cosem' })).body;
    const c = await api('POST', '/v1/metering/meter-security-keys', { meter: dev.id, dlms_master_key: '00112233445566778899aabbccddeeff', dlms_global_authentication_key: 'd0d1d2d3d4d5d6d7d8d9dadbdcdddedf' });
    assert.equal(c.status, 201);
    const one = await api('GET', `/v1/metering/meter-security-keys/${c.body.id}`);
    const list = await api('GET', '/v1/metering/meter-security-keys?meter_name=keyed');
    for (const b of [c.body, one.body, list.body.results[0]]) assert.ok(!('dlms_master_key' in b), JSON.stringify(b));
    assert.equal(one.body.meter.name, 'keyed');
    assert.equal(one.body.dlms_global_authentication_key, 'd0d1d2d3d4d5d6d7d8d9dadbdcdddedf');
  });

  it('JWT: read-only, filtered to the organization, renewable, expires after 1200 s', async () => {
    const other = (await api('POST', '/v1/organizations/', { name: 'Other utility' })).body;
    await api('POST', '/v1/metering/meter-devices', { organization: other.id, name: 'other-org-meter', protocol: 'mbus' });
    const jwt = await jwtFor();
    const mine = await api('GET', '/v1/metering/meter-devices?limit=1000', undefined, `JWT ${jwt}`);
    assert.ok(mine.body.count > 0);
    assert.ok(mine.body.results.every((d: any) => d.organization === DEMO_ORG));
    const orgs = await api('GET', '/v1/organizations/', undefined, `JWT ${jwt}`);
    assert.deepEqual(orgs.body.results.map((o: any) => o.id), [DEMO_ORG]);
    assert.deepEqual(orgs.body.results[0].members, ['00000000-0000-4000-8000-000000000002']);
    const hidden = (await api('GET', '/v1/metering/meter-devices?name=other-org-meter')).body.results[0];
    assert.equal((await api('GET', `/v1/metering/meter-devices/${hidden.id}`, undefined, `JWT ${jwt}`)).status, 404);
    const w = await api('POST', '/v1/metering/meter-devices', { name: 'x', protocol: 'mbus' }, `JWT ${jwt}`);
    assert.equal(w.status, 403);
    assert.deepEqual(w.body, { detail: 'You do not have permission to perform this action.' });
    assert.equal((await api('POST', '/v1/auth/jwt/change-organization/', { organization: other.id }, `JWT ${jwt}`)).status, 400);
    const bad = await api('POST', '/v1/auth/jwt/token/', { username: 'reader', password: 'nope' }, '');
    assert.deepEqual(bad.body, { non_field_errors: ['Unable to log in with provided credentials.'] });
    clock += 1100_000;
    const renewed = await api('GET', '/v1/auth/jwt/renew/', undefined, `JWT ${jwt}`);
    assert.equal(renewed.status, 200);
    clock += 200_000; // 1300 s after the first token: expired; the renewed one is 200 s old
    const expired = await api('GET', '/v1/metering/meter-devices', undefined, `JWT ${jwt}`);
    assert.equal(expired.status, 401);
    assert.deepEqual(expired.body, { detail: 'Signature has expired.' });
    assert.equal(expired.headers.get('www-authenticate'), 'JWT');
    assert.equal((await api('GET', '/v1/metering/meter-devices', undefined, `JWT ${renewed.body.token}`)).status, 200);
  });

  it('AMR engine: active tasks of a device (groups + meter_tasks) fire on UTC boundaries plus run_offset_seconds', async () => {
    const task = (name: string, schedule: string, extra = {}) => api('POST', '/v1/metering/amr-tasks/', { organization: DEMO_ORG, name, schedule, meter_execution_type: 'generic_lis200', task_call: 'set_time', ...extra }).then((r) => r.body);
    const quarterly = await task('q', 'quarterly', { run_offset_seconds: 60 });
    const daily = await task('d', 'daily');
    const inactive = await task('off', 'hourly', { is_active: false });
    const group = (await api('POST', '/v1/metering/amr-task-groups/', { organization: DEMO_ORG, name: 'g', tasks: [quarterly.id, inactive.id] })).body;
    assert.deepEqual(group.tasks_info.map((t: any) => t.name), ['q', 'off']);
    await api('POST', '/v1/metering/meter-devices', { organization: DEMO_ORG, name: 'sched', protocol: 'lis-200', task_groups: [group.id], meter_tasks: [daily.id] });
    // 23:50 -> 00:20: quarterly at 00:01 and 00:16 (00:00 + 60 s offset...), daily at 00:00; the hourly one is inactive.
    const from = Date.parse('2026-03-01T23:50:00Z');
    assert.equal(sim.runSchedule(from, Date.parse('2026-03-02T00:20:00Z')), 3);
    assert.deepEqual(UtilitarianSimulator.boundaries('weekly', Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-03-10T00:00:00Z')).map((t) => new Date(t).toISOString()), ['2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z']);
    assert.deepEqual(UtilitarianSimulator.boundaries('monthly', Date.parse('2026-01-15T00:00:00Z'), Date.parse('2026-03-01T00:00:00Z')).map((t) => new Date(t).toISOString()), ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  });

  it('ems-sim utilitarian parses its options and names a bad one', () => {
    const o = utilitarianCli.parse({ port: '0', user: 'ops:secret', 'jwt-lifetime': '60' });
    assert.deepEqual([o.port, o.sim.user, o.sim.jwtLifetimeS, o.sim.prefix], [0, { username: 'ops', password: 'secret' }, 60, '/v1']);
    assert.throws(() => utilitarianCli.parse({ user: 'nopassword' }), /--user: "nopassword" is not NAME:PASSWORD/);
  });
});
