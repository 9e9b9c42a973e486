// A site in the shipped EMS: folders with area, a main meter with two sub-meters, readings posted by hand, the site report as JSON, CSV and XLSX.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loginApi } from './api-client';
import { startEms, type RunningEms } from './runtime';

const H = 3_600_000;

describe('site report in the shipped EMS (real Node-RED, flows/ems.json)', () => {
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let token = '';

  before(async () => {
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const res = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'ems-admin' }) });
    token = ((await res.json()) as any).data.access_token;
  });
  after(async () => {
    await ems?.stop();
  });

  it('counts the main meter once, shows the unmetered remainder and the child space, per m2, in JSON, CSV and XLSX', async () => {
    const site = await api('POST', '/api/folders', { name: 'Plant Vienna', folder_type: 'site', area_m2: 400, time_zone: 'Europe/Vienna' });
    assert.equal(site.status, 201, JSON.stringify(site.body));
    const floor = await api('POST', '/api/folders', { name: 'Shop floor', folder_type: 'shopfloor', parent_id: site.body.data._id, area_m2: 100 });
    assert.equal(floor.status, 201, JSON.stringify(floor.body));
    for (const [id, folder, parent] of [['v-main', site, ''], ['v-press', floor, 'v-main'], ['v-oven', floor, 'v-main']] as const) {
      const m = await api('POST', '/api/meters', { _id: id, name: id, folder_id: folder.body.data._id, protocol: 'manual', parent_meter: parent });
      assert.equal(m.status, 201, JSON.stringify(m.body));
    }
    // 2 November 2026 00:00 in Vienna = 1 November 23:00 UTC; readings every 6 hours for a day.
    // Per 6 hours: main +30 kWh, press +12, oven +9: the day is 120, 48, 36; remainder 120 - 84 = 36.
    const t0 = Date.UTC(2026, 10, 1, 23);
    for (const [id, rate] of [['v-main', 30], ['v-press', 12], ['v-oven', 9]] as const) {
      const readings = [0, 1, 2, 3, 4].map((k) => ({ time: new Date(t0 + k * 6 * H).toISOString(), obis: '1-0:1.8.0', value: String(1000 + rate * k), unit: 'kWh' }));
      const posted = await api('POST', `/api/meters/${id}/readings`, { readings });
      assert.equal(posted.status, 201, JSON.stringify(posted.body));
    }
    // A virtual meter over the two sub-meters: listed with its consumption (48 + 36), never counted.
    const both = await api('POST', '/api/meters', { _id: 'v-floor', name: 'Shop floor total', folder_id: site.body.data._id, protocol: 'virtual', expression: '{v-press} + {v-oven}' });
    assert.equal(both.status, 201, JSON.stringify(both.body));
    const path = `/api/folders/${site.body.data._id}/report?from=2026-11-02&to=2026-11-02&step=day`;
    const r = await api('GET', path);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const virtual = r.body.data.meters.find((m: any) => m.meter === 'v-floor');
    assert.deepEqual([virtual.virtual, virtual.counted, virtual.category, virtual.consumption], [true, false, 'electricity', '84']);
    assert.deepEqual(r.body.data.notes.filter((n: string) => n.includes('v-floor')), [], 'no note about the virtual meter');
    const el = r.body.data.categories[0];
    assert.deepEqual([el.id, el.consumption, el.per_m2.consumption, el.series[0].date], ['electricity', '120', '0.3', '2026-11-02T00:00:00+01:00']); // 120 / 400 m2
    assert.deepEqual(r.body.data.submeters[0].remainder, { consumption: '36', kgce: '4.4244', kgco2e: '13.68', negative: false }); // 36 x 0.1229; 36 x 0.380
    assert.deepEqual(r.body.data.spaces.map((s: any) => [s.name, s.categories[0].consumption, s.categories[0].per_m2.consumption]), [['Shop floor', '84', '0.84']]);

    const csv = await fetch(`${ems.url}${path}&format=csv`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines[0], 'section,category,unit,id,name,date,date_to,consumption,kgce,kgco2e,per_m2,cost,currency,note');
    assert.ok(lines.some((l) => l.startsWith('remainder,electricity,kWh,v-main,v-main (unmetered remainder),,,36,4.4244,13.68,')), lines.join('\n'));

    const xlsx = await fetch(`${ems.url}${path}&format=xlsx`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(xlsx.status, 200);
    assert.match(xlsx.headers.get('content-disposition') ?? '', /\.xlsx"$/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const readXlsx = require('read-excel-file/node').readSheet as (b: Buffer) => Promise<unknown[][]>;
    const rows = await readXlsx(Buffer.from(await xlsx.arrayBuffer()));
    assert.deepEqual(rows[0].slice(0, 3), ['section', 'category', 'unit']);
    const total = rows.find((row) => row[0] === 'total')!;
    assert.deepEqual([total[1], total[7], total[10]], ['electricity', 120, 0.3]);
  });
});
