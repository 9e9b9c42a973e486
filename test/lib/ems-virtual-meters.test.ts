// Virtual meters: refused definitions (unknown, loops, in use), and their answers through the store wrapper.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { ApiError } from '../../lib/ems/envelope';
import { generateLicenseKeys, signLicense } from '../../lib/ems/license';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { registryResolver, registryVirtualIds, withVirtualMeters } from '../../lib/ems/virtual-store';
import { Quality, qualityFlags } from '../../lib/model/quality';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';
import type { RangeQuery, ReadingStore, WindowRow } from '../../lib/store/types';

const NOW = Date.UTC(2026, 11, 7, 12, 0);
const H = 3_600_000;
const DAY = Date.UTC(2026, 11, 6);
const E = '1-0:1.8.0';

function rejects(fn: () => unknown, status: number, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, status, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

/** A register growing by a different amount each step: readings every `step` ms from `start` for `hours`. */
function register(meter: string, start: number, step: number, hours: number, first: number, perStep: (k: number) => number, obis = E, unit = 'kWh'): Reading[] {
  const out: Reading[] = [];
  let v = first;
  for (let k = 0, t = start; t <= DAY + hours * H; k++, t += step) {
    out.push({ meter, time: t, obis, value: Math.round(v * 1000) / 1000, unit });
    v += perStep(k);
  }
  return out;
}

const micro = (v: number) => Math.round(v * 1e6);

describe('virtual meters', () => {
  let services: EmsServices;
  let sqlite: SqliteStore;
  let folderA: string;
  let folderB: string;
  let innerQueries: RangeQuery[] = [];
  /** The sqlite store, counting the queries that reach it. */
  let counted: ReadingStore;
  const store = () => withVirtualMeters(counted, registryResolver(services.registry));
  const deltas = async (meter: string, from: number, to: number, every: number, obis: string | null = E) =>
    (await store().query({ meter, ...(obis ? { obis } : {}), from, to, window: { every, fn: 'delta' }, timeZone: 'UTC' })) as WindowRow[];

  before(async () => {
    const keys = generateLicenseKeys();
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW, licensePublicKey: keys.publicKey });
    services.license.upload(JSON.stringify(signLicense({ id: 'L1', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2027-12-31', meter_limit: 50, issued_at: '2026-01-01' }, keys.privateKey)));
    folderA = services.registry.createFolder({ name: 'Site A' })._id;
    folderB = services.registry.createFolder({ name: 'Site B' })._id;
    for (const id of ['main', 'hvac', 'light', 'late', 'water']) services.registry.createMeter({ name: id, folder_id: folderA, protocol: 'manual' }, undefined, id);
    services.registry.createMeter({ name: 'Dashed', folder_id: folderA, protocol: 'manual' }, undefined, 'sub-1.a');
    services.registry.createMeter({ name: 'Elsewhere', folder_id: folderB, protocol: 'manual' }, undefined, 'other');
    sqlite = new SqliteStore({ path: ':memory:' });
    counted = Object.assign(Object.create(sqlite) as ReadingStore, {
      query: (q: RangeQuery) => { innerQueries.push(q); return sqlite.query(q); },
    });
    // main every 15 min, hvac every 20 min from :05, light every 10 min, late from 06:00 only, over one day.
    await sqlite.write(register('main', DAY, 15 * 60_000, 24, 1000, (k) => 2 + (k % 7) * 0.37));
    await sqlite.write(register('hvac', DAY + 5 * 60_000, 20 * 60_000, 24, 300, (k) => 0.5 + (k % 5) * 0.21));
    await sqlite.write(register('light', DAY, 10 * 60_000, 24, 40, (k) => (k % 3) * 0.1));
    await sqlite.write(register('late', DAY + 6 * H, 30 * 60_000, 24, 10, () => 0.25));
    await sqlite.write(register('sub-1.a', DAY, 15 * 60_000, 24, 7, (k) => 0.3 + (k % 2) * 0.05));
    await sqlite.write(register('water', DAY, H, 24, 5, () => 0.125, '8-0:1.0.0', 'm3'));
    services.registry.createMeter({ name: 'Rest', folder_id: folderA, protocol: 'virtual', expression: 'main - hvac' }, undefined, 'rest');
  });
  after(async () => {
    services.close();
    await sqlite.close();
  });

  describe('definition', () => {
    it('refuses unknown meters, meters outside the caller\'s folders, and loops, naming the meter', () => {
      const create = (expression: string, id: string, scope?: ReadonlySet<string>) => services.registry.createMeter({ name: id, folder_id: folderA, protocol: 'virtual', expression }, scope, id);
      rejects(() => create('main - nosuch', 'v-unknown'), 400, 'unknown meter "nosuch"');
      rejects(() => create('main - other', 'v-scope', new Set([folderA])), 400, 'unknown meter "other"');
      rejects(() => create('main - self', 'self'), 400, '"self" refers back to "self"');
      const v1 = create('main + 0 * light', 'v1');
      const v2 = create('v1 - light', 'v2'); // a virtual meter over a virtual meter is fine
      rejects(() => services.registry.updateMeter(v1._id, { expression: 'main - v2' }), 400, 'meter "v1" refers back to "v1" (v1 -> v2 -> v1)');
      rejects(() => create('{sub-1.a} + nosuch.x', 'v-member'), 400, 'nosuch.x', '{nosuch.x}');
      rejects(() => services.registry.createMeter({ name: 'x', folder_id: folderA, protocol: 'virtual' }, undefined, 'v-none'), 400, 'expression is required');
      rejects(() => services.registry.createMeter({ name: 'x', folder_id: folderA, protocol: 'manual', expression: 'main' }, undefined, 'v-manual'), 400, 'expression "main" applies to virtual meters only');
      rejects(() => services.registry.createMeter({ name: 'x', folder_id: folderA, protocol: 'virtual', expression: 'main', profile: 'p' }, undefined, 'v-profile'), 400, 'profile "p" must be empty for a virtual meter');
      services.registry.deleteMeter(v2._id);
      assert.equal(services.registry.updateMeter(v1._id, { protocol: 'manual' }).definition.expression, '', 'no longer virtual: the expression goes');
      services.registry.deleteMeter(v1._id);
    });

    it('refuses meters of another energy category that already have readings (POST /api/meters, 400 naming the meter)', async () => {
      const token = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
      const create = async (body: Record<string, unknown>) => (await runOperation(operationByName('meters.create')!, {
        services, store: store(), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => NOW,
        request: { method: 'POST', params: {}, query: {}, body: { folder_id: folderA, protocol: 'virtual', ...body }, headers: { authorization: `Bearer ${token}` }, cookies: {} },
      })) as HttpAnswer & { body: any };
      const mixed = await create({ _id: 'v-mixed', name: 'mixed', expression: 'main + 2 * water' });
      assert.equal(mixed.status, 400, JSON.stringify(mixed.body));
      assert.match(mixed.body.error, /meter "water" measures cold water but "main" measures electricity/);
      const nested = await create({ _id: 'v-nested-water', name: 'nested', expression: 'water - rest' }); // rest: a virtual meter over electricity
      assert.equal(nested.status, 400, JSON.stringify(nested.body));
      assert.match(nested.body.error, /meter "rest" measures electricity but "water" measures cold water/);
      const fine = await create({ _id: 'v-fine', name: 'fine', expression: 'rest + light' });
      assert.equal(fine.status, 201, JSON.stringify(fine.body));
      services.registry.deleteMeter('v-fine');
    });

    it('refuses deleting a meter a virtual meter uses (409 naming it); renaming it is harmless (references are ids)', async () => {
      rejects(() => services.registry.deleteMeter('hvac'), 409, 'meter "hvac" is used by virtual meter "rest"');
      services.registry.updateMeter('main', { name: 'Main incomer (renamed)' });
      assert.equal((await deltas('rest', DAY + H, DAY + 2 * H, H)).length, 1);
    });
  });

  describe('consumption per window', () => {
    it('answers each hour as main − hvac of their exact edge-to-edge consumptions, flagged CALCULATED', async () => {
      const [rest, main, hvac] = await Promise.all(['rest', 'main', 'hvac'].map((m) => deltas(m, DAY, DAY + 24 * H, H)));
      assert.equal(rest.length, 24);
      assert.equal(main.length, 24);
      rest.forEach((r, i) => {
        assert.equal(r.time, DAY + i * H);
        assert.equal(r.unit, 'kWh');
        assert.equal(micro(r.value), micro(main[i].value) - micro(hvac[i].value), `hour ${i}`);
        assert.ok((r.quality ?? 0) & Quality.CALCULATED);
        assert.equal(r.count, main[i].count + hvac[i].count);
      });
      // hvac reads at :05, :25, :45: its hour edges are interpolated, and the virtual meter says so
      assert.deepEqual(qualityFlags(rest[3].quality), ['INTERPOLATED', 'CALCULATED']);
      // a window checked by hand: main 01:00..02:00 = readings 4..8, hvac 01:00..02:00 interpolated between :45 and :05
      const mainAt = (k: number) => register('main', DAY, 15 * 60_000, 24, 1000, (j) => 2 + (j % 7) * 0.37)[k].value;
      const hvacRows = register('hvac', DAY + 5 * 60_000, 20 * 60_000, 24, 300, (j) => 0.5 + (j % 5) * 0.21);
      const hvacAt = (t: number) => {
        const i = hvacRows.findIndex((r) => r.time > t);
        const a = hvacRows[i - 1];
        const b = hvacRows[i];
        return a.value + ((b.value - a.value) * (t - a.time)) / (b.time - a.time);
      };
      const expected = mainAt(8) - mainAt(4) - (hvacAt(DAY + 2 * H) - hvacAt(DAY + H));
      assert.ok(Math.abs(rest[1].value - expected) < 2e-6, `${rest[1].value} vs ${expected}`);
    });

    it('adds up its windows to the consumption over their union, to the last digit, also with fractional coefficients', async () => {
      services.registry.createMeter({ name: 'Thirds', folder_id: folderA, protocol: 'virtual', expression: '(main + hvac + {sub-1.a}) / 3 - 0.5 * light' }, undefined, 'thirds');
      for (const meter of ['rest', 'thirds']) {
        for (const [from, to] of [[DAY, DAY + 24 * H], [DAY + 90 * 60_000, DAY + 17 * H + 7 * 60_000]]) {
          const hours = await deltas(meter, from, to, H);
          const quarter = await deltas(meter, from, to, 15 * 60_000);
          const union = await deltas(meter, from, to, 2 * 24 * H);
          assert.equal(union.length, 1, meter);
          const sum = (rows: WindowRow[]) => rows.reduce((s, r) => s + micro(r.value), 0);
          assert.equal(sum(hours), micro(union[0].value), `${meter} hours from ${from}`);
          assert.equal(sum(quarter), micro(union[0].value), `${meter} quarters from ${from}`);
          assert.ok(union[0].value > 0);
        }
      }
    });

    it('leaves a window absent (never 0) where one of its meters has no consumption, and answers the others', async () => {
      services.registry.createMeter({ name: 'With late', folder_id: folderA, protocol: 'virtual', expression: 'main - late' }, undefined, 'with-late');
      const rows = await deltas('with-late', DAY, DAY + 24 * H, H);
      const late = await deltas('late', DAY, DAY + 24 * H, H);
      assert.equal(late[0].time, DAY + 6 * H);
      assert.deepEqual(rows.map((r) => r.time), late.map((r) => r.time));
      assert.ok(rows.every((r) => r.time >= DAY + 6 * H));
      // the day: each meter's own consumption in it (late's counts from its first reading, as for any meter)
      const [day, mainDay, lateDay] = await Promise.all(['with-late', 'main', 'late'].map((m) => deltas(m, DAY, DAY + 24 * H, 24 * H)));
      assert.equal(micro(day[0].value), micro(mainDay[0].value) - micro(lateDay[0].value));
    });

    it('answers only the OBIS codes all its meters share, refusing meters of different quantities (409)', async () => {
      assert.deepEqual([...new Set((await deltas('rest', DAY, DAY + 3 * H, H, null)).map((r) => r.obis))], [E]);
      services.registry.createMeter({ name: 'Mixed', folder_id: folderA, protocol: 'virtual', expression: 'main + water' }, undefined, 'mixed');
      await assert.rejects(deltas('mixed', DAY, DAY + 3 * H, H, null), (err: ApiError) => err.status === 409 && /"main": 1-0:1\.8\.0; "water": 8-0:1\.0\.0/.test(err.message));
      assert.deepEqual(await deltas('mixed', DAY, DAY + 3 * H, H), [], 'no water meter reads 1-0:1.8.0');
    });

    it('costs one query per stored meter, however deep the nesting', async () => {
      services.registry.createMeter({ name: 'Nested', folder_id: folderA, protocol: 'virtual', expression: 'rest - light + rest' }, undefined, 'nested');
      innerQueries = [];
      const nested = await deltas('nested', DAY, DAY + 24 * H, H);
      assert.deepEqual(innerQueries.map((q) => q.meter).sort(), ['hvac', 'light', 'main']);
      const [main, hvac, light] = await Promise.all(['main', 'hvac', 'light'].map((m) => deltas(m, DAY, DAY + 24 * H, H)));
      nested.forEach((r, i) => assert.equal(micro(r.value), 2 * micro(main[i].value) - 2 * micro(hvac[i].value) - micro(light[i].value)));
    });
  });

  describe('register, latest and writes', () => {
    it('answers its register at each instant of its meters, the others interpolated, and other window functions over it', async () => {
      const from = DAY + 2 * H;
      const raw = (await store().query({ meter: 'rest', obis: E, from, to: from + H })) as Reading[];
      const main = (await sqlite.query({ meter: 'main', obis: E, from, to: from + H })) as Reading[];
      const hvac = (await sqlite.query({ meter: 'hvac', obis: E, from, to: from + H })) as Reading[];
      assert.deepEqual(raw.map((r) => r.time), [...new Set([...main, ...hvac].map((r) => r.time))].sort((a, b) => a - b));
      const at = raw.find((r) => r.time === hvac[0].time)!; // hvac read, main interpolated between :00 and :15
      const m0 = main[0];
      const m1 = main[1];
      const mainThen = m0.value + ((m1.value - m0.value) * (at.time - m0.time)) / (m1.time - m0.time);
      assert.ok(Math.abs(at.value - (mainThen - hvac[0].value)) < 2e-6);
      assert.deepEqual(qualityFlags(at.quality), ['INTERPOLATED', 'CALCULATED']);
      const last = (await store().query({ meter: 'rest', obis: E, from, to: from + H, window: { every: H, fn: 'last' }, timeZone: 'UTC' })) as WindowRow[];
      assert.deepEqual(last.map((r) => [r.time, r.value]), [[from, raw[raw.length - 1].value]]);
      const limited = (await store().query({ meter: 'rest', obis: E, from, to: from + H, limit: 2 })) as Reading[];
      assert.deepEqual(limited, raw.slice(0, 2));
    });

    it('answers latest at the earliest of its meters\' newest readings', async () => {
      const latest = await store().latest({ meter: 'rest' });
      const newest = Math.min(...(await Promise.all(['main', 'hvac'].map((m) => sqlite.latest({ meter: m, obis: E })))).map((r) => r[0].time));
      assert.deepEqual(latest.map((r) => [r.meter, r.obis, r.time]), [['rest', E, newest]]);
    });

    it('answers the virtual meters\' newest values beside the stored ones when asked for every meter (the meter list, the overview)', async () => {
      const plain = await store().latest();
      assert.ok(!plain.some((r) => r.meter === 'rest'), 'without the list of virtual meters: stored meters only');
      const all = await withVirtualMeters(sqlite, registryResolver(services.registry), registryVirtualIds(services.registry)).latest();
      const own = await store().latest({ meter: 'rest' });
      assert.deepEqual(all.filter((r) => r.meter === 'rest'), own);
      const virtual = new Set(registryVirtualIds(services.registry)());
      assert.deepEqual(all.filter((r) => !virtual.has(r.meter)), await sqlite.latest(), 'the stored meters as the store answers them');
    });

    it('refuses writes for a virtual meter (409) and passes other meters through', async () => {
      await assert.rejects(store().write([{ meter: 'rest', time: NOW, obis: E, value: 1, unit: 'kWh' }]), (err: ApiError) => err.status === 409 && err.message.includes('"rest" is virtual'));
      assert.equal(await store().write([{ meter: 'light', time: NOW, obis: E, value: 99, unit: 'kWh' }]), 1);
    });
  });
});
