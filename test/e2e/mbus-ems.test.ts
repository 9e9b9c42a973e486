// The shipped EMS polls M-Bus meters defined through its API (protocol "mbus") over a TCP gateway.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

const s = (name: string) => findTelegram(name)!;

describe('the EMS polls M-Bus meters (real Node-RED, flows/ems.json, simulator over TCP)', () => {
  let sim: MbusSimulator;
  let port: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  const meter = (id: string, extra: Record<string, unknown>) => api('POST', '/api/meters', {
    _id: id, name: id, folder_id: folder, protocol: 'mbus', ip_address: '127.0.0.1', port, waiting_time: 300, interval_time: 2, ...extra,
  });
  const readings = async (id: string, obis: string): Promise<any[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };

  before(async () => {
    sim = new MbusSimulator({ speed: 3600, slaves: [
      { primary: 3, sample: s('efe-waterstar') },
      { primary: 1, sample: s('slb-cf-integral') },
      { primary: 9, sample: s('els-f96-plus'), fault: 'silent' },
    ] });
    port = await sim.listen(0);
    ems = await startEms({ EMS_MBUS_HOST: '127.0.0.1', EMS_MBUS_PORT: String(port), EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'M-Bus plant' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });

  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('stores the readings of a water meter (primary address) and a heat meter (secondary address)', async () => {
    assert.equal((await meter('mb-water', { connection_address: '3' })).status, 201);
    assert.equal((await meter('mb-heat', { connection_address: '11817314' })).status, 201);
    const water = await eventually(20_000, async () => { const r = await readings('mb-water', '9-0:1.0.0'); return r.length >= 2 ? r : undefined; });
    // EFE WaterStar: 332 l captured, +40 l per simulated hour (1 s = 1 h here)
    assert.ok(water.every((r) => r.meter === 'mb-water' && r.unit === 'm3' && r.value >= 0.332 && r.value < 1), JSON.stringify(water));
    assert.ok(water[water.length - 1].value > water[0].value, 'the counter advances between polls');
    const heat = await eventually(20_000, async () => { const r = await readings('mb-heat', '6-0:1.0.0'); return r.length ? r : undefined; });
    assert.equal(heat[0].unit, 'kWh');
    assert.ok(heat[0].value >= 0);
  });

  it('logs poll-failed for a meter that does not answer and stores nothing for it', async () => {
    assert.equal((await meter('mb-dead', { connection_address: '9' })).status, 201);
    const failed = await eventually(20_000, async () => {
      const { body } = await api('GET', '/api/events?filter=poll-failed&meter=mb-dead');
      return body.data?.length ? body.data : undefined;
    });
    assert.equal(failed[0].level, 'error');
    assert.match(failed[0].event, /^poll failed: .*no answer from primary address 9/);
    assert.deepEqual(await readings('mb-dead', '6-0:1.0.0'), []);
  });
});
