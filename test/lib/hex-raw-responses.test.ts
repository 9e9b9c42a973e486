import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { matchOperation, OPERATIONS, runOperation, type ApiContext } from '../../lib/ems/api';
import { schemaVersion } from '../../lib/ems/db';
import { RawResponses } from '../../lib/ems/raw-responses';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const request = (over: Partial<ApiContext['request']> = {}): ApiContext['request'] => ({ params: {}, query: {}, body: undefined, headers: {}, cookies: {}, ...over });
const T0 = Date.parse('2026-11-21T08:00:00Z');

describe('raw poll-server responses (meter_id, date, data)', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  let token: string;

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' } });
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: Date.now };
    token = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    const raw = new RawResponses(services.db);
    raw.add('m1', '010304436680006e68', T0);
    raw.add('m1', '0103044366C000AAAA', T0 + 60_000);
    raw.add('m2', 'FF', T0 + 30_000);
  });
  after(() => services.close());

  it('is stored by migration 6 and answered newest first, per meter, between date1 and date2', () => {
    assert.ok(schemaVersion(services.db) >= 6);
    const raw = new RawResponses(services.db);
    assert.deepEqual(raw.query('m1', {}).map((r) => [r.date, r.data]), [
      ['2026-11-21T08:01:00.000Z', '0103044366C000AAAA'], ['2026-11-21T08:00:00.000Z', '010304436680006E68'],
    ]);
    assert.deepEqual(raw.query('m1', { date2: '2026-11-21T08:00:30Z' }).map((r) => r.data), ['010304436680006E68']);
    assert.equal(raw.query('m1', { limit: '1' }).length, 1);
    assert.throws(() => raw.query('m1', { limit: '0' }), /limit "0" must be a whole number from 1 to 10000/);
    assert.throws(() => raw.query('m1', { date1: '2026-11-22', date2: '2026-11-21' }), /date1 .* is after date2/);
    assert.throws(() => raw.add('m1', 'XYZ'), /data must be HEX digits/);
  });

  it('is served at GET /api/meters/:id/responses', async () => {
    const found = matchOperation(OPERATIONS, 'GET', '/api/meters/m1/responses')!;
    assert.equal(found.op.name, 'meters.responses');
    const auth = { authorization: `Bearer ${token}` };
    const ok = await runOperation(found.op, { ...base, request: request({ params: found.params, query: { date1: String(T0 + 1) }, headers: auth }) });
    assert.equal(ok.status, 200);
    assert.deepEqual((ok.body as any).data, [{ meter_id: 'm1', date: '2026-11-21T08:01:00.000Z', data: '0103044366C000AAAA' }]);
    const bad = await runOperation(found.op, { ...base, request: request({ params: found.params, query: { since: '1' }, headers: auth }) });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as any).error, 'unknown parameter "since" (use date1, date2, limit)');
    const anon = await runOperation(found.op, { ...base, request: request({ params: found.params }) });
    assert.equal(anon.status, 401);
  });
});
