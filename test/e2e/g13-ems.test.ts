import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { G13Simulator } from '../../lib/sim/g13';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

const ENERGY = '1-0:1.8.0';

describe('the EMS polls meters behind a G13 gateway (real Node-RED, flows/ems.json, simulated G13)', () => {
  let sim: G13Simulator;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  const meter = (id: string, extra: Record<string, unknown>) => api('POST', '/api/meters', {
    _id: id, name: id, folder_id: folder, protocol: 'g13', ip_address: '127.0.0.1', port: Number(new URL(sim.url).port),
    connection_address: 'ABB_8', password: 'ems:emsread1', profile: sim.fingerprint256, interval_time: 2, ...extra,
  });
  const readings = async (id: string, obis = ENERGY): Promise<any[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };
  const failures = async (id: string) => {
    const { body } = await api('GET', `/api/events?filter=poll-failed&meter=${id}`);
    return body.data?.length ? body.data : undefined;
  };

  before(async () => {
    sim = new G13Simulator({
      users: [{ name: 'admin', password: 'secret1', admin: true }, { name: 'ems', password: 'emsread1', admin: false, access: { ABB_8: 'view', ABB_9: 'view' } }],
    });
    await sim.listen(0, '127.0.0.1');
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'G13 plant' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
  });

  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('stores the energy, power and voltage of a "g13" meter every interval_time seconds', async () => {
    const created = await meter('g13-main', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await eventually(20_000, async () => { const r = await readings('g13-main'); return r.length >= 2 ? r : undefined; });
    assert.ok(rows.every((r) => r.unit === 'kWh' && r.value >= 12345.67), JSON.stringify(rows[0]));
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].value >= rows[i - 1].value, 'an energy counter never falls');
    const volts = await readings('g13-main', '1-0:32.7.0');
    assert.ok(volts.length >= 1 && volts[0].unit === 'V' && volts[0].value > 200, JSON.stringify(volts[0]));
    assert.equal(await failures('g13-main'), undefined, 'no failed poll');
  });

  it('logs poll-failed and stores nothing for a meter the account may not see, a dead meter and a wrong fingerprint', async () => {
    assert.equal((await meter('g13-hidden', { connection_address: 'WTR_1' })).status, 201);
    sim.gateway.meter('ABB_9')!.spec.offline = true;
    assert.equal((await meter('g13-dead', { connection_address: 'ABB_9' })).status, 201);
    assert.equal((await meter('g13-spoofed', { profile: 'AB'.repeat(32) })).status, 201);
    const hidden = await eventually(20_000, () => failures('g13-hidden'));
    assert.equal(hidden[0].level, 'error');
    assert.match(hidden[0].event, /^poll failed: .*meter WTR_1: GET \/meters\/WTR_1\/energy\/active: 403 no access to meter WTR_1/);
    const dead = await eventually(20_000, () => failures('g13-dead'));
    assert.match(dead[0].event, /500 received invalid response from COSEM\./);
    const spoofed = await eventually(20_000, () => failures('g13-spoofed'));
    assert.match(spoofed[0].event, /certificate fingerprint .* does not match/);
    assert.deepEqual(await readings('g13-hidden'), []);
    assert.deepEqual(await readings('g13-dead'), []);
    assert.deepEqual(await readings('g13-spoofed'), []);
  });
});
