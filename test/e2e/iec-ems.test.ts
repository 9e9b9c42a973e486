// The shipped EMS polls IEC 62056-21 optical meters and raw-HEX meters defined through its API:
// readings stored, raw responses kept per meter, a drifting meter clock corrected with a 'clock' event,
// and a dead meter logged as poll-failed with no readings.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';
import { HexSimulator } from '../../lib/sim/hex';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

describe('the EMS polls IEC 62056-21 and HEX meters (real Node-RED, flows/ems.json)', () => {
  let iec: Iec62056Simulator;
  let iecPort: number;
  let hex: HexSimulator;
  let hexPort: number;
  let rtu: ModbusMeterSimulator;
  let rtuPort: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  const readings = async (id: string, obis: string): Promise<any[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };
  const events = async (id: string, kind: string): Promise<any[] | undefined> => {
    const { body } = await api('GET', `/api/events?filter=${kind}&meter=${id}`);
    return body.data?.length ? body.data : undefined;
  };
  const meter = (body: Record<string, unknown>) => api('POST', '/api/meters', { folder_id: folder, interval_time: 2, waiting_time: 1500, ...body });

  before(async () => {
    iec = new Iec62056Simulator({
      meters: [
        { address: '12345678', profile: findSimMeter('iskra-mt174')!, password: '00000000' },
        { address: '87654321', profile: findSimMeter('landis-gyr-zmd310')!, password: 'LGZ-P1', clockOffsetMs: 20 * 60_000 },
      ],
    });
    iecPort = await iec.listen(0);
    hex = new HexSimulator({ pairs: [{ request: '010300000002C40B', response: '010304436680006E68' }] });
    hexPort = await hex.listen(0);
    rtu = new ModbusMeterSimulator({ units: [{ unit: 3, profile: 'eastron-sdm630' }], framing: 'rtu-over-tcp' });
    rtuPort = await rtu.listen(0);
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'Optical plant' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });

  after(async () => {
    await ems?.stop();
    await iec?.close();
    await hex?.close();
    await rtu?.close();
  });

  it('reads an IEC 62056-21 meter defined with protocol iec62056-21', async () => {
    const created = await meter({ _id: 'iec-mt174', name: 'MT174', protocol: 'iec62056-21', ip_address: '127.0.0.1', port: iecPort, connection_address: '12345678' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await eventually(20_000, async () => { const r = await readings('iec-mt174', '1-0:1.8.0'); return r.length >= 2 ? r : undefined; });
    assert.ok(rows.every((r) => r.unit === 'kWh' && r.value >= 502.853 && r.value < 503), JSON.stringify(rows));
    assert.equal((await readings('iec-mt174', '1-0:2.8.0'))[0].value, 98697.318);
  });

  it('corrects a meter clock 20 minutes fast (P1 from the definition) and logs a clock event', async () => {
    const created = await meter({ _id: 'iec-zmd', name: 'ZMD310 feeder', protocol: 'iec62056-21', ip_address: '127.0.0.1', port: iecPort, connection_address: '87654321', password: 'LGZ-P1', time_difference: 60, interval_time: 3600 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await api('POST', '/api/meters/iec-zmd/poll')).status, 200);
    const clock = await eventually(20_000, () => events('iec-zmd', 'clock'));
    assert.equal(clock[0].meter_name, 'ZMD310 feeder');
    assert.match(clock[0].event, /^meter clock corrected: it was 1[12]\d\d s ahead$/);
    assert.ok(Math.abs(iec.meter('87654321').clockOffsetMs) < 3000, `offset ${iec.meter('87654321').clockOffsetMs} ms`);
    const rows = await eventually(10_000, async () => { const r = await readings('iec-zmd', '1-1:1.8.0'); return r.length ? r : undefined; });
    assert.ok(rows.some((r) => Math.abs(r.time - Date.now()) < 60_000), 'timed by our clock, not the drifted one');
  });

  it('polls a HEX meter: the frame from its profile, the raw response stored and served', async () => {
    const created = await meter({ _id: 'hex-rtu', name: 'RTU via GSM', protocol: 'hex', ip_address: '127.0.0.1', port: hexPort, profile: 'modbus-rtu:010300000002C40B' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await eventually(20_000, async () => {
      const r = await api('GET', '/api/meters/hex-rtu/responses?limit=5');
      return r.status === 200 && r.body.data.length >= 2 ? r.body.data : undefined;
    });
    assert.equal(rows[0].meter_id, 'hex-rtu');
    assert.equal(rows[0].data, '010304436680006E68');
    assert.ok(Date.parse(rows[0].date) >= Date.parse(rows[1].date));
    const bad = await api('GET', '/api/meters/hex-rtu/responses?limit=0');
    assert.equal(bad.status, 400);
  });

  it('reads Modbus RTU readings through the HEX poll server with a profile codec', async () => {
    rtu.setFixed(3, '1-0:1.8.0', 4321.25);
    const created = await meter({ _id: 'hex-sdm', name: 'SDM630 via converter', protocol: 'hex', ip_address: '127.0.0.1', port: rtuPort, connection_address: '3', profile: 'modbus-rtu:eastron-sdm630', pause_time: 20 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await eventually(20_000, async () => { const r = await readings('hex-sdm', '1-0:1.8.0'); return r.length ? r : undefined; });
    assert.equal(rows[0].value, 4321.25);
  });

  it('refuses a bad HEX command when the meter is defined; logs poll-failed for a dead IEC meter and an unanswered frame, storing nothing', async () => {
    const refused = await meter({ _id: 'hex-typo', name: 'typo', protocol: 'hex', ip_address: '127.0.0.1', port: hexPort, profile: 'raw:0103F' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /profile frame 1 "0103F" is not an even number of HEX digits/);
    // The unlicensed EMS polls at most 5 meters: make room for two more.
    assert.equal((await api('DELETE', '/api/meters/hex-sdm')).status, 200);
    assert.equal((await meter({ _id: 'iec-dead', name: 'dead', protocol: 'iec62056-21', ip_address: '127.0.0.1', port: iecPort, connection_address: '99999999', waiting_time: 300 })).status, 201);
    assert.equal((await meter({ _id: 'hex-bad', name: 'unanswered', protocol: 'hex', ip_address: '127.0.0.1', port: hexPort, profile: 'raw:0103000000F0', waiting_time: 300 })).status, 201);
    const dead = await eventually(20_000, () => events('iec-dead', 'poll-failed'));
    assert.match(dead[0].event, /no identification from the meter within 300 ms/);
    const bad = await eventually(20_000, () => events('hex-bad', 'poll-failed'));
    assert.match(bad[0].event, /^poll failed: .*300 ms/);
    assert.deepEqual(await readings('iec-dead', '1-0:1.8.0'), []);
    assert.deepEqual((await api('GET', '/api/meters/hex-bad/responses')).body.data, []);
  });
});
