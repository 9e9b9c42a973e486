import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LorawanPlatformSimulator } from '../../lib/sim/lorawan-platform';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

describe('the EMS polls lorawan-platform meters (real Node-RED, flows/ems.json)', () => {
  let sim: LorawanPlatformSimulator;
  let port: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  const meter = (id: string, extra: Record<string, unknown>) => api('POST', '/api/meters', {
    _id: id, name: id, folder_id: folder, protocol: 'lorawan-platform', ip_address: '127.0.0.1', port,
    profile: '/internal/commonInternal.jsp', password: 'karly:123456', interval_time: 2, ...extra,
  });
  const readings = async (id: string, obis: string): Promise<any[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };

  before(async () => {
    sim = new LorawanPlatformSimulator({ uplinkMs: 1000 });
    port = await sim.listen(0);
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'LoRaWAN platform' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });

  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('stores the gas meter\'s register as 7-0:3.0.0 in m3, read at the platform by devEui', async () => {
    assert.equal((await meter('lora-gas', { number_meter: '8cf9572000010106' })).status, 201);
    const rows = await eventually(20_000, async () => { const r = await readings('lora-gas', '7-0:3.0.0'); return r.length >= 2 ? r : undefined; });
    assert.ok(rows.every((r) => r.unit === 'm3' && r.value >= 250.5 && r.value < 251), JSON.stringify(rows));
    assert.ok(rows[rows.length - 1].value >= rows[0].value);
    const logins = sim.requests.filter((r) => r.method === 'toLogin');
    assert.ok(logins.length >= 1 && logins.length <= 2, `logs in once and keeps the session (${logins.length} logins)`);
    assert.ok(sim.requests.some((r) => r.method === 'queryRealTimeData' && r.path === '/internal/commonInternal.jsp' && r.params.devEui === '8cf9572000010106'));
  });

  it('finds a meter by its meter address and converts heat (kWh on the platform) to GJ', async () => {
    assert.equal((await meter('lora-heat', { number_meter: '20200104135800' })).status, 201);
    const rows = await eventually(20_000, async () => { const r = await readings('lora-heat', '6-0:1.0.0'); return r.length ? r : undefined; });
    assert.equal(rows[0].unit, 'GJ');
    assert.ok(Math.abs(rows[0].value - 12.24) < 0.01, `3400 kWh = 12.24 GJ, got ${rows[0].value}`);
  });

  it('logs poll-failed for an unknown meter number and a wrong password, and stores nothing', async () => {
    assert.equal((await meter('lora-unknown', { number_meter: '8cf95720000fffff' })).status, 201);
    assert.equal((await meter('lora-badpw', { number_meter: '8cf9572000010103', password: 'karly:Not-Her-Pass-7' })).status, 201);
    const unknown = await eventually(20_000, async () => {
      const { body } = await api('GET', '/api/events?filter=poll-failed&meter=lora-unknown');
      return body.data?.length ? body.data : undefined;
    });
    assert.match(unknown[0].event, /meter number "8cf95720000fffff" is not on the platform/);
    const badpw = await eventually(20_000, async () => {
      const { body } = await api('GET', '/api/events?filter=poll-failed&meter=lora-badpw');
      return body.data?.length ? body.data : undefined;
    });
    assert.match(badpw[0].event, /toLogin failed: errcode -31: wrong username or password/);
    assert.deepEqual(await readings('lora-unknown', '7-0:3.0.0'), []);
    assert.deepEqual(await readings('lora-badpw', '1-0:1.8.0'), []);
  });
});
