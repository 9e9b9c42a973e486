import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { createDemoPlant, loginApi } from './api-client';
import { editorHeaders, editorToken, eventually, startEms, type RunningEms } from './runtime';

const ENERGY = '1-0:1.8.0';
const energyOf = (meter: any) => meter.values.find((v: any) => v.obis === ENERGY);

describe('shipped EMS flow (real Node-RED, settings.js, flows/ems.json)', () => {
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  const getJson = (url: string) => api('GET', url.slice(ems.url.length));

  before(async () => {
    // The demo plant of `npm start`, with time running 120x so energy visibly rises between polls.
    sim = new ModbusMeterSimulator({
      units: [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 2, profile: 'abb-a44' }, { unit: 3, profile: 'carlo-gavazzi-em24' }],
      speed: 120,
    });
    const port = await sim.listen(0);
    ems = await startEms({ EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(port), EMS_TIME_ZONE: 'Europe/Berlin' });
    api = await loginApi(ems.url);
    await createDemoPlant(api, port, 10);
  });

  after(async () => {
    await ems?.stop();
    await sim?.close();
  });

  it('serves the editor with the energy nodes loaded', async () => {
    const page = await fetch(`${ems.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>node-red-contrib-ems<\/title>/);
    // The admin API answers only to an editor account (an EMS admin here).
    assert.equal((await fetch(`${ems.url}/nodes`, { headers: { Accept: 'application/json' } })).status, 401);
    const token = await editorToken(ems.url);
    const nodes = await (await fetch(`${ems.url}/nodes`, { headers: editorHeaders(token) })).json() as any[];
    const ours = nodes.filter((n) => n.module === 'node-red-contrib-ems');
    assert.deepEqual(ours.map((n) => n.types[0]).sort(),
      Object.keys(require('../../../package.json')['node-red'].nodes).sort());
    assert.ok(ours.every((n) => n.enabled && !n.err), JSON.stringify(ours.filter((n) => n.err)));
    // Every example flow (Import > Examples) uses only node types this runtime has.
    const types = new Set(nodes.flatMap((n) => n.types as string[]));
    const examplesDir = path.join(__dirname, '..', '..', '..', 'examples');
    const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
    for (const t of ['ems-poll-schedule', 'ems-modbus-meter', 'ems-store-write', 'ems-store-query', 'ems-api', 'ems-consumption', 'ems-price', 'ems-bill', 'ems-prepaid']) {
      assert.ok(examples.some((f) => fs.readFileSync(path.join(examplesDir, f), 'utf8').includes(`"${t}"`)), `an example uses ${t}`);
    }
    for (const f of examples) {
      const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, f), 'utf8')) as { id: string; type: string }[];
      const subflows = new Set(flow.filter((n) => n.type === 'subflow').map((n) => `subflow:${n.id}`));
      for (const n of flow) assert.ok(types.has(n.type) || subflows.has(n.type) || ['tab', 'group', 'subflow'].includes(n.type), `${f}: unknown node type ${n.type}`);
    }
    const editorHtml = await (await fetch(`${ems.url}/nodes`, { headers: { ...editorHeaders(token), Accept: 'text/html' } })).text();
    assert.match(editorHtml, /category:\s*"energy"/);
  });

  it('polls the three meters and answers GET /api/meters with rising energy', async () => {
    const first = await eventually(30_000, async () => {
      const { status, body } = await getJson(`${ems.url}/api/meters`);
      assert.equal(status, 200);
      return body.data.length === 3 && body.data.every(energyOf) ? body : undefined;
    });
    assert.equal(first.error, null);
    assert.equal(first.status, 200);
    assert.deepEqual(first.data.map((m: any) => m._id), ['hvac', 'lighting', 'main-incomer']);
    const main = first.data.find((m: any) => m._id === 'main-incomer');
    const voltage = main.values.find((v: any) => v.obis === '1-0:32.7.0');
    assert.equal(voltage.unit, 'V');
    assert.ok(voltage.value > 220 && voltage.value < 240, `L1 voltage ${voltage.value}`);
    assert.equal(energyOf(main).unit, 'kWh');

    // Two more poll cycles (every 10 s): every meter's energy has risen.
    const later = await eventually(35_000, async () => {
      const { body } = await getJson(`${ems.url}/api/meters`);
      const risen = first.data.every((m: any) => {
        const now = body.data.find((x: any) => x._id === m._id);
        return now && energyOf(now).time >= energyOf(m).time + 19_000 && energyOf(now).value > energyOf(m).value;
      });
      return risen ? body : undefined;
    });
    assert.equal(later.data.length, 3);
  });

  it('answers GET /api/meters/:id/readings with the stored series, raw and windowed', async () => {
    const { status, body } = await getJson(`${ems.url}/api/meters/main-incomer/readings?obis=${ENERGY}&from=-1h`);
    assert.equal(status, 200);
    const rows = body.data.readings;
    assert.ok(rows.length >= 3, `${rows.length} readings`);
    for (let i = 1; i < rows.length; i++) {
      assert.ok(rows[i].time > rows[i - 1].time);
      assert.ok(rows[i].value >= rows[i - 1].value, 'an energy counter never falls');
    }
    assert.ok(rows.every((r: any) => r.meter === 'main-incomer' && r.obis === ENERGY && r.unit === 'kWh'));

    const windowed = await getJson(`${ems.url}/api/meters/main-incomer/readings?obis=${ENERGY}&from=-1h&window=1h&fn=delta`);
    assert.equal(windowed.status, 200);
    assert.deepEqual(windowed.body.data.window, { every: 3_600_000, fn: 'delta' });
    const total = windowed.body.data.readings.reduce((s: number, r: any) => s + r.value, 0);
    assert.ok(total > 0, 'energy used in the last hour is positive');
  });

  it('answers 400 naming a bad parameter and 404 for an unknown meter', async () => {
    const bad = await getJson(`${ems.url}/api/meters/main-incomer/readings?from=yesterday`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { data: null, error: 'from: "yesterday" is not a time (use epoch ms, ISO 8601 or -1h)', status: 400 });
    const badObis = await getJson(`${ems.url}/api/meters/main-incomer/readings?obis=kWh`);
    assert.equal(badObis.status, 400);
    assert.match(badObis.body.error, /^obis: /);
    const unknownParam = await getJson(`${ems.url}/api/meters/main-incomer/readings?meter=x`);
    assert.equal(unknownParam.status, 400);
    assert.match(unknownParam.body.error, /unknown parameter "meter"/);
    const missing = await getJson(`${ems.url}/api/meters/no-such-meter/readings`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { data: null, error: 'unknown meter "no-such-meter"', status: 404 });
  });

  it('keeps polling the others when one meter dies, and shows the failure in the log', async () => {
    sim.setFault(2, { kind: 'dead' });
    const before = (await getJson(`${ems.url}/api/meters`)).body.data;
    const since = energyOf(before.find((m: any) => m._id === 'main-incomer')).time;
    await eventually(25_000, async () => {
      const { body } = await getJson(`${ems.url}/api/meters`);
      const main = body.data.find((m: any) => m._id === 'main-incomer');
      return energyOf(main).time > since + 9_000 ? true : undefined;
    });
    assert.match(ems.log(), /meter "hvac" unit 2 \(abb-a44\)/);
    // The failed poll is in the event log, and stored no value.
    const failed = await eventually(15_000, async () => {
      const { body } = await api('GET', '/api/events?filter=poll-failed&meter=hvac');
      return body.data?.length ? body.data : undefined;
    });
    assert.equal(failed[0].meter_name, 'hvac');
    assert.match(failed[0].event, /^poll failed: .*hvac/);
    sim.clearFault(2);
  });
});
