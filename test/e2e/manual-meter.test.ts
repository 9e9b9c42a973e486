// An offline (manual) meter in the shipped EMS: never polled, its readings entered with POST /api/meters/:id/readings.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Quality } from '../../lib/model/quality';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

/** A loopback port nothing listens on (taken from the OS, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a manual meter in the shipped EMS (real Node-RED, flows/ems.json)', () => {
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
  });
  after(async () => {
    await ems?.stop();
  });

  it('is never polled, while a polled meter beside it fails every interval; its posted readings come back', async () => {
    const f = await api('POST', '/api/folders', { name: 'Offline site' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    const folder = f.body.data._id;
    const manual = await api('POST', '/api/meters', { _id: 'e2e-hand', name: 'Water by hand', folder_id: folder, protocol: 'manual', interval_time: 1 });
    assert.equal(manual.status, 201, JSON.stringify(manual.body));
    // The control: a Modbus meter at a port nothing listens on, polled every second, fails each poll.
    const port = await closedPort();
    const control = await api('POST', '/api/meters', {
      _id: 'e2e-dead', name: 'dead', folder_id: folder, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port, profile: 'eastron-sdm630', interval_time: 1, waiting_time: 300,
    });
    assert.equal(control.status, 201, JSON.stringify(control.body));
    const failures = async (meter: string): Promise<unknown[]> => {
      const r = await api('GET', `/api/events?filter=poll-failed&meter=${meter}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.data;
    };
    await eventually(20_000, async () => ((await failures('e2e-dead')).length >= 3 ? true : undefined))
      .catch(() => assert.fail('awaited 3 poll-failed events of the control meter e2e-dead within 20 s'));
    assert.deepEqual(await failures('e2e-hand'), [], 'no poll of the manual meter (no poll-failed event) after several 1 s intervals');
    const polling = await api('GET', '/api/polling?meter=e2e-hand');
    assert.equal(polling.status, 200, JSON.stringify(polling.body));
    assert.equal(polling.body.data[0]?.scheduled, false, JSON.stringify(polling.body.data));
    assert.equal((await api('POST', '/api/meters/e2e-hand/poll')).status, 503, 'poll now: no schedule polls a manual meter');

    const start = Date.UTC(2026, 0, 1);
    const readings = [0, 1, 2].map((k) => ({ time: new Date(start + k * 86_400_000).toISOString(), obis: '8-0:1.0.0', value: String(100 + k * 2.5), unit: 'm3' }));
    const posted = await api('POST', '/api/meters/e2e-hand/readings', { readings });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.equal(posted.body.data.written, 3);
    const back = await api('GET', `/api/meters/e2e-hand/readings?obis=8-0:1.0.0&from=${start}&to=${start + 3 * 86_400_000}`);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(back.body.data.readings.map((r: any) => [new Date(r.time).toISOString(), r.value, r.unit, r.quality]), readings.map((r) => [r.time, Number(r.value), 'm3', Quality.MANUAL]));
  });
});
