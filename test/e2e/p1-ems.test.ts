/**
 * A DSMR P1 meter defined through the API is read by the shipped EMS (real Node-RED, flows/ems.json):
 * the P1 simulator pushes DSMR 5 telegrams over TCP as a P1-to-network bridge does; the poll schedule's
 * polls take the latest telegram, and its electricity registers and gas channel are stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { P1Simulator } from '../../lib/sim/p1';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

describe('a DSMR P1 meter in the shipped EMS (real Node-RED)', () => {
  let sim: P1Simulator;
  let port: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    sim = new P1Simulator({ version: '5', intervalMs: 1000 });
    port = await sim.listen(0);
    ems = await startEms({ EMS_TIME_ZONE: 'Europe/Amsterdam', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
  });
  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('is defined with protocol p1 (bridge host and port), polled, and its registers and gas channel stored', async () => {
    const folder = (await api('POST', '/api/folders', { name: 'Home' })).body.data._id;
    const bad = await api('POST', '/api/meters', { _id: 'p1-bad', name: 'x', folder_id: folder, protocol: 'p1', ip_address: '127.0.0.1', port, password: 'not-a-key' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^password .* must be empty or the meter's 32-hex-digit decryption key/);
    const created = await api('POST', '/api/meters', { _id: 'p1-home', name: 'Home P1', folder_id: folder, protocol: 'p1', ip_address: '127.0.0.1', port, interval_time: 2, waiting_time: 5000 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([created.body.data.definition.connection_address, created.body.data.definition.profile], ['', '']);
    const latest = await eventually(30_000, async () => {
      const m = (await api('GET', '/api/meters/p1-home')).body.data;
      const obis = (m?.values ?? []).map((v: { obis: string }) => v.obis);
      return obis.includes('1-0:1.8.1') && obis.some((o: string) => o.startsWith('7-')) ? m.values : undefined;
    });
    const t1 = latest.find((v: { obis: string }) => v.obis === '1-0:1.8.1');
    assert.equal(t1.unit, 'kWh');
    assert.ok(t1.value > 0);
    const gas = latest.find((v: { obis: string }) => v.obis.startsWith('7-'));
    assert.equal(gas.unit, 'm3');
    const polling = (await api('GET', '/api/polling?meter=p1-home')).body.data[0];
    assert.equal(polling.last.ok, true, JSON.stringify(polling));
  });
});
