// File import of readings in the shipped EMS (real Node-RED, flows/ems.json): preview, commit, re-import, undo, over multipart and raw bodies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import writeXlsxFile from 'write-excel-file/node';
import { qualityFlags } from '../../lib/model/quality';
import { loginApi } from './api-client';
import { startEms, type RunningEms } from './runtime';

describe('file import of readings in the shipped EMS', () => {
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let token: string;

  /** POST /api/imports with the file as a multipart field "file" (as a browser form sends it) or as the raw body. */
  const send = async (query: string, file: Buffer | string, how: { multipart?: string; type?: string }): Promise<{ status: number; body: any }> => {
    let body: FormData | Blob | string = typeof file === 'string' ? file : new Blob([new Uint8Array(file)]);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (how.multipart) {
      const form = new FormData();
      form.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)]), how.multipart);
      body = form;
    } else headers['content-type'] = how.type ?? 'text/csv';
    const r = await fetch(`${ems.url}/api/imports${query}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(20_000) });
    return { status: r.status, body: await r.json() };
  };

  before(async () => {
    ems = await startEms({ EMS_TIME_ZONE: 'Europe/Berlin', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const login = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'ems-admin' }) });
    token = ((await login.json()) as any).data.access_token;
  });
  after(async () => {
    await ems?.stop();
  });

  it('previews, commits, ignores a re-import, shows the flags, and undoes the import with the replaced reading restored', async () => {
    const f = await api('POST', '/api/folders', { name: 'Offline meters' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    assert.equal((await api('POST', '/api/meters', { _id: 'e2e-gas', name: 'Gas by hand', folder_id: f.body.data._id, protocol: 'manual' })).status, 201);
    // A reading entered by hand before the import: 2026-01-10 08:00 Berlin = 07:00 UTC.
    const t1 = Date.UTC(2026, 0, 10, 7);
    assert.equal((await api('POST', '/api/meters/e2e-gas/readings', { time: t1, obis: '7-0:3.0.0', value: 500, unit: 'm3' })).status, 201);
    const readings = async () => {
      const r = await api('GET', `/api/meters/e2e-gas/readings?obis=7-0:3.0.0&from=${t1 - 3_600_000}&to=${t1 + 3 * 86_400_000}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.data.readings.map((x: any) => [new Date(x.time).toISOString(), x.value, qualityFlags(x.quality)]);
    };
    // A spreadsheet export: BOM, semicolons, decimal commas, local times, CRLF.
    const csv = '\ufeffMeter;Date;OBIS;Reading;Unit\r\ne2e-gas;10.01.2026 08:00;7-0:3.0.0;"501,25";m3\r\ne2e-gas;11.01.2026 08:00;7-0:3.0.0;512,5;m3\r\ne2e-gas;12.01.2026 08:00;7-0:3.0.0;520;m3\r\n';

    const preview = await send('', csv, { multipart: 'gas-january.csv' });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    const p = preview.body.data;
    assert.deepEqual([p.mode, p.time_zone, p.rows, p.meters, p.new, p.unchanged, p.replaced, p.bad_rows], ['preview', 'Europe/Berlin', 3, { 'e2e-gas': 3 }, 2, 0, 1, 0]);
    assert.deepEqual(await readings(), [['2026-01-10T07:00:00.000Z', 500, ['MANUAL']]], 'a preview writes nothing');

    const commit = await send('?mode=commit', csv, { multipart: 'gas-january.csv' });
    assert.equal(commit.status, 201, JSON.stringify(commit.body));
    const id = commit.body.data.import;
    const imported = [['2026-01-10T07:00:00.000Z', 501.25, ['MANUAL', 'IMPORTED']], ['2026-01-11T07:00:00.000Z', 512.5, ['MANUAL', 'IMPORTED']], ['2026-01-12T07:00:00.000Z', 520, ['MANUAL', 'IMPORTED']]];
    assert.deepEqual(await readings(), imported);

    const again = await send('?mode=commit', Buffer.from(csv), { type: 'text/csv' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual([again.body.data.import, again.body.data.written], [id, 0]);
    const cells = (v: unknown[]) => v.map((value) => (value instanceof Date ? { value, format: 'dd.mm.yyyy hh:mm' } : { value }));
    const xlsx = Buffer.from(await writeXlsxFile([cells(['Time', 'OBIS', 'Value', 'Unit']), ...[[10, 501.25], [11, 512.5], [12, 520]]
      .map(([d, v]) => cells([new Date(Date.UTC(2026, 0, d, 8)), '7-0:3.0.0', v, 'm3']))] as never).toBuffer());
    const asXlsx = await send('?mode=commit&meter=e2e-gas', xlsx, { multipart: 'gas-january.xlsx' });
    assert.equal(asXlsx.status, 200, JSON.stringify(asXlsx.body));
    assert.deepEqual([asXlsx.body.data.format, asXlsx.body.data.import, asXlsx.body.data.written], ['xlsx', id, 0]);
    assert.deepEqual(await readings(), imported, 're-imports change nothing');

    const bad = await send('?mode=commit', `${csv}e2e-gas;13.01.2026 08:00;7-0:3.0.0;viel;m3\r\n`, { multipart: 'gas-bad.csv' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.data.errors.map((e: any) => [e.line, e.column, e.value]), [[5, 'Reading', 'viel']]);

    const list = await api('GET', '/api/imports');
    assert.deepEqual(list.body.data.map((i: any) => [i.id, i.file_name, i.added, i.replaced]), [[id, 'gas-january.csv', 2, 1]]);
    const undo = await api('DELETE', `/api/imports/${id}`);
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    assert.deepEqual([undo.body.data.removed, undo.body.data.restored], [2, 1]);
    assert.deepEqual(await readings(), [['2026-01-10T07:00:00.000Z', 500, ['MANUAL']]], 'the hand-entered reading is back with its value and flag');
    const events = await api('GET', '/api/events?filter=import');
    assert.deepEqual(events.body.data.map((e: any) => e.event.replace(/:.*/, '')), [`import ${id} undone`, `import ${id} committed`]);
  });
});
