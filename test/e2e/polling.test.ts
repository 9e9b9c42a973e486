import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

const ENERGY = '1-0:1.8.0';
const socat = findExecutable('socat', 'EMS_SOCAT');

describe('polling the meters defined through the API (real Node-RED, flows/ems.json)', () => {
  let bus: ModbusMeterSimulator;
  let gateway: ModbusMeterSimulator;
  let converter: ModbusMeterSimulator;
  let busPort: number;
  let gatewayPort: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;
  let bridge: ChildProcess | undefined;

  const meter = (id: string, extra: Record<string, unknown>) => api('POST', '/api/meters', {
    _id: id, name: id, folder_id: folder, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: busPort,
    connection_address: '1', profile: 'eastron-sdm630', interval_time: 2, ...extra,
  });
  const readings = async (id: string): Promise<any[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${ENERGY}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };

  before(async () => {
    bus = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 2, profile: 'abb-a44' }], speed: 120 });
    busPort = await bus.listen(0);
    gateway = new ModbusMeterSimulator({ units: [{ unit: 5, profile: 'carlo-gavazzi-em24' }], speed: 120 });
    gatewayPort = await gateway.listen(0);
    converter = new ModbusMeterSimulator({ units: [{ unit: 7, profile: 'abb-a44' }], speed: 120, framing: 'rtu-over-tcp' });
    ems = await startEms({ EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(busPort), EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'E2E plant' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });

  after(async () => {
    bridge?.kill('SIGTERM');
    await ems?.stop();
    await bus?.close();
    await gateway?.close();
    await converter?.close();
  });

  it('polls a meter created with POST /api/meters every interval_time seconds, without a redeploy', async () => {
    const created = await meter('e2e-main', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await eventually(15_000, async () => { const r = await readings('e2e-main'); return r.length >= 4 ? r : undefined; });
    for (let i = 1; i < rows.length; i++) {
      const gap = rows[i].time - rows[i - 1].time;
      assert.ok(gap >= 1500 && gap <= 4500, `polled every 2 s, got a gap of ${gap} ms`);
      assert.ok(rows[i].value >= rows[i - 1].value, 'an energy counter never falls');
    }
    const status = await api('GET', '/api/polling?meter=e2e-main');
    assert.equal(status.status, 200, JSON.stringify(status.body));
    const [s] = status.body.data;
    assert.equal(s.meter, 'e2e-main');
    assert.equal(s.scheduled, true);
    assert.equal(s.interval_time, 2);
    assert.equal(s.failures, 0);
    assert.equal(s.last.ok, true);
    const nextIn = Date.parse(s.next_due) - Date.now();
    assert.ok(nextIn > -1000 && nextIn <= 2500, `next poll due in ${nextIn} ms`);
    assert.deepEqual({ skipped: s.skipped, waiting_since: s.waiting_since }, { skipped: 0, waiting_since: null });
    const backlog = await api('GET', '/api/polling/backlog');
    assert.equal(backlog.status, 200, JSON.stringify(backlog.body));
    const b = backlog.body.data;
    assert.ok(b.meters >= 1 && b.started >= 4, `backlog ${JSON.stringify(b)}`);
    assert.deepEqual({ waiting: b.waiting, oldest_waiting_age_ms: b.oldest_waiting_age_ms }, { waiting: 0, oldest_waiting_age_ms: null });
    assert.ok(b.late_p99_ms !== null && b.late_p99_ms < 1000, `polls start late by ${b.late_p99_ms} ms at p99`);
  });

  it('polls a meter at once with POST /api/meters/:id/poll', async () => {
    // Hourly: its scheduled turn almost surely does not fall within this test.
    assert.equal((await meter('e2e-hourly', { connection_address: '2', profile: 'abb-a44', interval_time: 3600 })).status, 201);
    const since = Date.now();
    const polled = await api('POST', '/api/meters/e2e-hourly/poll');
    assert.equal(polled.status, 200, JSON.stringify(polled.body));
    assert.deepEqual(polled.body.data, { meter: 'e2e-hourly', started: true });
    const rows = await eventually(10_000, async () => { const r = await readings('e2e-hourly'); return r.length ? r : undefined; });
    assert.equal(rows.length, 1);
    assert.ok(rows[0].time >= since - 1000);
    const missing = await api('POST', '/api/meters/no-such-meter/poll');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'unknown meter "no-such-meter"');
  });

  it('reads a meter behind another gateway (its own ip_address and port)', async () => {
    assert.equal((await meter('e2e-gateway', { port: gatewayPort, connection_address: '5', profile: 'carlo-gavazzi-em24' })).status, 201);
    const rows = await eventually(15_000, async () => { const r = await readings('e2e-gateway'); return r.length >= 2 ? r : undefined; });
    assert.ok(rows.every((r) => r.meter === 'e2e-gateway' && r.unit === 'kWh'));
  });

  it('polls a meter behind a Modbus RTU-over-TCP converter, and a serial modbus-rtu meter on a tty (socat pty)', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), async () => {
    const converterPort = await converter.listen(0);
    const created = await meter('e2e-rtu-tcp', { protocol: 'modbus-rtu-over-tcp', port: converterPort, connection_address: '7', profile: 'abb-a44' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await eventually(15_000, async () => { const r = await readings('e2e-rtu-tcp'); return r.length >= 2 ? r : undefined; });
    assert.ok(rows.every((r) => r.meter === 'e2e-rtu-tcp' && r.unit === 'kWh' && r.value > 0));

    // A real pseudo-terminal under /dev/pts, bridged by socat to the converter: every byte crosses a tty.
    bridge = spawn(socat!, ['-d', '-d', 'pty,raw,echo=0', `tcp:127.0.0.1:${converterPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    bridge.stderr!.on('data', (d) => { said += d; });
    const tty = await eventually(10_000, async () => /PTY is (\/dev\/pts\/\d+)/.exec(said)?.[1]);
    const bad = await meter('e2e-rtu-bad', { protocol: 'modbus-rtu', ip_address: '10.0.0.5', connection_address: '7', profile: 'abb-a44' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^ip_address "10\.0\.0\.5" must be the serial device of the RTU bus .* a converter on the network is modbus-rtu-over-tcp/);
    const badLine = await meter('e2e-rtu-bad', { protocol: 'modbus-rtu', ip_address: tty, serial_line: '9600 9X1', connection_address: '7', profile: 'abb-a44' });
    assert.match(badLine.body.error, /^serial_line "9600 9X1" must be "<baud> <data bits><parity N\|E\|O><stop bits>"/);
    const serial = await meter('e2e-rtu', { protocol: 'modbus-rtu', ip_address: tty, serial_line: '19200 8E1', connection_address: '7', profile: 'abb-a44' });
    assert.equal(serial.status, 201, JSON.stringify(serial.body));
    assert.deepEqual([serial.body.data.definition.port, serial.body.data.definition.serial_line], [0, '19200 8E1']);
    const serialRows = await eventually(15_000, async () => { const r = await readings('e2e-rtu'); return r.length >= 2 ? r : undefined; });
    assert.ok(serialRows.every((r) => r.meter === 'e2e-rtu' && r.unit === 'kWh' && r.value > 0));
    for (const id of ['e2e-rtu', 'e2e-rtu-tcp']) assert.equal((await api('DELETE', `/api/meters/${id}`)).status, 200); // the demo license allows 5 meters
  });

  it('logs poll-failed for a dead unit, stores no value, and recovers after an update', async () => {
    assert.equal((await meter('e2e-dead', { connection_address: '9' })).status, 201);
    const dead = await eventually(20_000, async () => {
      const { body } = await api('GET', '/api/events?filter=poll-failed&meter=e2e-dead');
      return body.data?.length ? body.data : undefined;
    });
    assert.equal(dead[0].meter_name, 'e2e-dead');
    assert.equal(dead[0].level, 'error');
    assert.match(dead[0].event, /^poll failed: /);
    assert.deepEqual(await readings('e2e-dead'), []);
    const status = (await api('GET', '/api/polling')).body.data.find((m: any) => m.meter === 'e2e-dead');
    assert.equal(status.last.ok, false);
    assert.ok(status.failures >= 1);

    // Pointed at a live unit (no redeploy), it delivers readings and logs poll-recovered.
    assert.equal((await api('PUT', '/api/meters/e2e-dead', { connection_address: '2', profile: 'abb-a44' })).status, 200);
    await eventually(15_000, async () => ((await readings('e2e-dead')).length ? true : undefined));
    await eventually(5_000, async () => {
      const { body } = await api('GET', '/api/events?filter=poll-recovered&meter=e2e-dead');
      return body.data?.length ? true : undefined;
    });
    // Deleted, it is no longer polled: its readings stop growing.
    assert.equal((await api('DELETE', '/api/meters/e2e-dead')).status, 200);
    await new Promise((r) => setTimeout(r, 500));
    const before = (await readings('e2e-dead')).length;
    assert.ok(before > 0);
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal((await readings('e2e-dead')).length, before, 'a deleted meter is not polled');
  });
});
