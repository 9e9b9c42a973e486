/**
 * DLMS/COSEM meters defined through the API are read by the shipped EMS (real Node-RED, flows/ems.json) from
 * the DLMS simulator: LLS over the TCP wrapper, HLS-GMAC (ciphered) over HDLC on TCP; the keys are never
 * returned; after an offline window the meter's load profile fills the hole (readings flagged BACKFILLED).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DlmsSimulator } from '../../lib/sim/dlms';
import { DEFAULT_AK, DEFAULT_EK } from '../../lib/sim/dlms/cli';
import { Quality } from '../../lib/model/quality';
import { loginApi } from './api-client';
import { emsProbes } from './ems-probes';
import { startEms, type RunningEms } from './runtime';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DLMS meters in the shipped EMS (real Node-RED)', () => {
  let sim: DlmsSimulator;
  let wrapperPort: number;
  let hdlcPort: number;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  const { waitFor, readings, events } = emsProbes(() => ems, () => api);
  const gaps = async (id: string, obis: string, from: number, to: number) => {
    const r = await api('GET', `/api/meters/${id}/gaps?obis=${obis}&interval=2s&from=${from}&to=${to}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data as { missing: number; gaps: unknown[] };
  };

  before(async () => {
    const keys = { encryptionKey: Buffer.from(DEFAULT_EK, 'hex'), authenticationKey: Buffer.from(DEFAULT_AK, 'hex') };
    sim = new DlmsSimulator({ meterId: 'EMS00001', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000021', 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60, profilePeriodSeconds: 1, profileEntries: 3600 });
    wrapperPort = await sim.listenWrapper(0);
    hdlcPort = await sim.listenHdlc(0);
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'Grid connection' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });
  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('reads a meter defined with protocol dlms and security_level lls over the wrapper', async () => {
    const bad = await api('POST', '/api/meters', { _id: 'dlms-bad', name: 'x', folder_id: folder, protocol: 'dlms', ip_address: '127.0.0.1', port: wrapperPort, security_level: 'lls' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /password is required for a dlms meter with security_level "lls"/);
    const created = await api('POST', '/api/meters', { _id: 'dlms-lls', name: 'Grid meter (LLS)', folder_id: folder, protocol: 'dlms', ip_address: '127.0.0.1', port: wrapperPort, connection_address: '1', security_level: 'lls', password: '12345678', interval_time: 2, waiting_time: 500 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await waitFor('two readings of dlms-lls', 30_000, async () => { const r = await readings('dlms-lls', '1-0:1.8.0'); return r.length >= 2 ? r : undefined; });
    assert.ok(rows.every((r) => r.unit === 'kWh' && r.value > 0), JSON.stringify(rows));
    const power = await readings('dlms-lls', '1-0:1.7.0');
    assert.equal(power[0]?.unit, 'kW');
    const shown = (await api('GET', '/api/meters/dlms-lls')).body.data;
    assert.equal(shown.definition.password_set, true);
    assert.ok(!JSON.stringify(shown).includes('12345678'));
  });

  it('reads a meter with security_level hls-gmac over HDLC (1/17), the keys never returned', async () => {
    const created = await api('POST', '/api/meters', {
      _id: 'dlms-hls', name: 'Grid meter (HLS)', folder_id: folder, protocol: 'dlms', ip_address: '127.0.0.1', port: hdlcPort, connection_address: '1/17',
      security_level: 'hls-gmac', encryption_key: DEFAULT_EK, authentication_key: DEFAULT_AK, profile: '1-0:1.8.0, 1-0:2.8.0, 4:1-0:1.6.0', interval_time: 2, waiting_time: 1000,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await waitFor('three readings of dlms-hls', 30_000, async () => { const r = await readings('dlms-hls', '1-0:1.8.0'); return r.length >= 3 ? r : undefined; });
    assert.ok(rows.every((r) => r.unit === 'kWh' && r.value > 0));
    assert.equal((await readings('dlms-hls', '1-0:1.6.0'))[0]?.unit, 'kW');
    const text = JSON.stringify((await api('GET', '/api/meters/dlms-hls')).body);
    assert.ok(!text.includes(DEFAULT_EK) && !text.includes(DEFAULT_AK), text);
    assert.match(text, /"encryption_key_set":true/);
    assert.deepEqual(await events('dlms-hls', 'poll-failed'), []);
  });

  it('a wrong key is a poll-failed event that names the refusal, never the key, and stores nothing', async () => {
    const wrong = 'FFEEDDCCBBAA99887766554433221100';
    const created = await api('POST', '/api/meters', {
      _id: 'dlms-wrong', name: 'Wrong key', folder_id: folder, protocol: 'dlms', ip_address: '127.0.0.1', port: wrapperPort, security_level: 'hls-gmac',
      encryption_key: DEFAULT_EK, authentication_key: wrong, interval_time: 2, waiting_time: 500,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const failed = await waitFor('a poll-failed event of dlms-wrong', 20_000, async () => { const e = await events('dlms-wrong', 'poll-failed'); return e.length ? e : undefined; });
    assert.match(failed[0].event, /^poll failed: .*association rejected/);
    assert.ok(!JSON.stringify(failed).includes(wrong) && !JSON.stringify(failed).includes(DEFAULT_EK));
    assert.deepEqual(await readings('dlms-wrong', '1-0:1.8.0'), []);
    assert.equal((await api('DELETE', '/api/meters/dlms-wrong')).status, 200);
  });

  it('after an offline window the load profile fills the hole, flagged BACKFILLED', async () => {
    const id = 'dlms-lls';
    const obis = '1-0:1.8.0';
    sim.offline = true;
    const down = Date.now();
    await waitFor(`a poll-failed event of ${id}`, 20_000, async () => {
      const e = await events(id, 'poll-failed');
      return e.some((x) => Date.parse(x.date) >= down) ? e : undefined;
    });
    await sleep(5000);
    const window = { from: down + 2000, to: Date.now() - 1000 };
    const before = await gaps(id, obis, window.from, window.to);
    assert.ok(before.missing >= 2, `the outage left missing slots: ${JSON.stringify(before)}`);
    sim.offline = false;
    const done = await waitFor(`a backfill event of ${id}`, 40_000, async () => {
      const e = (await events(id, 'backfill')).filter((x) => x.level === 'info');
      return e.length ? e[0] : undefined;
    });
    assert.match(done.event, /^backfill: dlms-lls: \d+ readings from /);
    const closed = await waitFor(`the gap of ${id} closed`, 10_000, async () => {
      const g = await gaps(id, obis, window.from, window.to);
      return g.missing === 0 ? g : undefined;
    });
    assert.deepEqual(closed.gaps, []);
    const filled = (await readings(id, obis)).filter((r) => r.time >= window.from && r.time < window.to);
    assert.ok(filled.length >= 2, `readings in the outage: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => (r.quality & Quality.BACKFILLED) !== 0), `every reading of the outage is backfilled: ${JSON.stringify(filled)}`);
    assert.ok(filled.every((r) => r.time % 1000 === 0), 'at the profile rows\' own times');
    assert.ok(filled.every((r, i) => i === 0 || r.value >= filled[i - 1].value), 'the counter rises through the outage');
  });
});
