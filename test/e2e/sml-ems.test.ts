/**
 * An SML (eHZ) meter defined through the API is read by the shipped EMS (real Node-RED, flows/ems.json):
 * the SML simulator pushes telegrams over TCP as an IR-head-to-network bridge does; the poll schedule's
 * polls take the latest telegram and its registers are stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SmlSimulator } from '../../lib/sim/sml';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

describe('an SML meter in the shipped EMS (real Node-RED)', () => {
  let sim: SmlSimulator;
  let port: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    sim = new SmlSimulator({ intervalMs: 1000 });
    port = await sim.listen(0);
    ems = await startEms({ EMS_TIME_ZONE: 'Europe/Berlin', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
  });
  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('is defined with protocol sml (bridge host and port), polled, and its import register and power stored', async () => {
    const folder = (await api('POST', '/api/folders', { name: 'House' })).body.data._id;
    const bad = await api('POST', '/api/meters', { _id: 'sml-bad', name: 'x', folder_id: folder, protocol: 'sml', ip_address: '127.0.0.1', port, profile: 'eastron-sdm630' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^profile "eastron-sdm630" must be empty for an sml meter/);
    const created = await api('POST', '/api/meters', { _id: 'ehz-1', name: 'eHZ cellar', folder_id: folder, protocol: 'sml', ip_address: '127.0.0.1', port, interval_time: 2, waiting_time: 5000 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const values = await eventually(30_000, async () => {
      const m = (await api('GET', '/api/meters/ehz-1')).body.data;
      const obis = (m?.values ?? []).map((v: { obis: string }) => v.obis);
      return obis.includes('1-0:1.8.0') && obis.includes('1-0:16.7.0') ? m.values : undefined;
    });
    const energy = values.find((v: { obis: string }) => v.obis === '1-0:1.8.0');
    assert.equal(energy.unit, 'kWh');
    assert.ok(energy.value > 0);
    assert.equal(values.find((v: { obis: string }) => v.obis === '1-0:16.7.0').unit, 'kW');
    const polling = (await api('GET', '/api/polling?meter=ehz-1')).body.data[0];
    assert.equal(polling.last.ok, true, JSON.stringify(polling));
  });
});
