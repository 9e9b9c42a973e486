import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openEmsDb } from '../../lib/ems/db';
import { EventLog } from '../../lib/ems/event-log';
import { ApiError } from '../../lib/ems/envelope';

const T = Date.UTC(2026, 10, 21, 8, 0);
const H = 3_600_000;

function log(): EventLog {
  const l = new EventLog(openEmsDb(':memory:'), () => T);
  l.add({ kind: 'poll-failed', level: 'error', event: 'timeout after 1000 ms', meter_id: 'sdm', meter_name: 'Main incomer', time: T - 3 * H });
  l.add({ kind: 'prepaid', level: 'warning', event: 'valve closed: balance below cut-off', meter_id: 'flat-7', value: '-1.20', time: T - 2 * H });
  l.add({ kind: 'config', event: 'meter created', meter_id: 'a44', meter_name: 'Hall A 100%', source: 'admin', time: T - H });
  l.add({ kind: 'system', event: 'EMS started' });
  return l;
}

describe('event log', () => {
  it('answers the dictionary\'s fields newest first, within date1..date2, up to limit', () => {
    const l = log();
    const all = l.query({});
    assert.deepEqual(all.map((e) => e.event), ['EMS started', 'meter created', 'valve closed: balance below cut-off', 'timeout after 1000 ms']);
    assert.deepEqual(Object.keys(all[3]).sort(), ['date', 'event', 'id', 'kind', 'level', 'meter_id', 'meter_name', 'source', 'value']);
    assert.equal(all[3].date, new Date(T - 3 * H).toISOString());
    assert.deepEqual(l.query({ date1: new Date(T - 2.5 * H).toISOString(), date2: String(T - H) }).map((e) => e.meter_id), ['a44', 'flat-7']);
    assert.equal(l.query({ limit: '2' }).length, 2);
  });

  it('filters by kind, level or text (LIKE wildcards taken literally), and by the meters a user sees', () => {
    const l = log();
    assert.deepEqual(l.query({ filter: 'prepaid' }).map((e) => e.value), ['-1.20']);
    assert.deepEqual(l.query({ filter: 'error' }).map((e) => e.meter_id), ['sdm']);
    assert.deepEqual(l.query({ filter: 'incomer' }).map((e) => e.meter_id), ['sdm']);
    assert.deepEqual(l.query({ filter: '100%' }).map((e) => e.meter_id), ['a44']);
    assert.deepEqual(l.query({ filter: '%' }).map((e) => e.meter_id), ['a44']);
    assert.deepEqual(l.query({}, { meters: new Set(['sdm']) }).map((e) => e.meter_id), ['sdm']);
  });

  it('shows a scoped reader only their meters\' events, and login, audit, security, system and license events to admins only', () => {
    const l = log();
    l.add({ kind: 'login', event: 'logged in', source: 'vera@10.0.0.5' });
    l.add({ kind: 'login', event: 'login refused: wrong password', source: 'boss@10.0.0.9' });
    l.add({ kind: 'security', event: 'too many failed logins', source: 'vera_x@10.0.0.7' });
    l.add({ kind: 'audit', event: 'PUT /api/users/u1', source: 'boss@10.0.0.9' });
    l.add({ kind: 'license', event: 'license installed' });
    l.add({ kind: 'config', event: 'folder created', meter_name: 'Secret plant' });
    const events = (reader: Parameters<EventLog['query']>[1]) => l.query({}, reader).map((e) => e.event).sort();
    // An unscoped viewer: every meter and configuration event, and their own login only.
    assert.deepEqual(events({ admin: false, login: 'vera' }), ['folder created', 'logged in', 'meter created', 'timeout after 1000 ms', 'valve closed: balance below cut-off']);
    // "vera_x" is not "vera" (LIKE wildcards taken literally) and a viewer never sees security events.
    assert.deepEqual(events({ admin: false, login: 'vera_' }), ['folder created', 'meter created', 'timeout after 1000 ms', 'valve closed: balance below cut-off']);
    // A scoped viewer: only events of their meters (no folder names of other folders), plus their own login.
    assert.deepEqual(events({ meters: new Set(['sdm']), admin: false, login: 'vera' }), ['logged in', 'timeout after 1000 ms']);
    // A scoped admin: their meters' events and every administrators' event.
    assert.deepEqual(events({ meters: new Set(['sdm']), admin: true, login: 'boss' }),
      ['EMS started', 'PUT /api/users/u1', 'license installed', 'logged in', 'login refused: wrong password', 'timeout after 1000 ms', 'too many failed logins']);
    assert.equal(l.query({}).length, 10);
  });

  it('prunes events older than the retention', () => {
    const l = log();
    l.add({ kind: 'config', event: 'ancient', time: T - 401 * 24 * H });
    l.add({ kind: 'config', event: 'old but kept', time: T - 399 * 24 * H });
    assert.equal(l.prune(), 1);
    assert.deepEqual(l.query({ filter: 'config' }).map((e) => e.event), ['meter created', 'old but kept']);
    assert.equal(l.prune(1), 1, 'only "old but kept" is older than a day');
  });

  it('refuses bad parameters with 400 naming them', () => {
    const l = log();
    const bad = (p: Record<string, unknown>, re: RegExp) => assert.throws(() => l.query(p), (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message));
    bad({ date1: '2026-11-22', date2: '2026-11-21' }, /date1 \(2026-11-22T00:00:00.000Z\) is after date2/);
    bad({ date1: 'yesterday' }, /date1 "yesterday" must be an ISO date/);
    bad({ limit: '1000000' }, /limit "1000000" must be a whole number from 1 to 10000/);
    bad({ limit: '-1' }, /limit "-1"/);
    bad({ since: 'x' }, /unknown parameter "since"/);
    assert.throws(() => l.add({ kind: 'gossip' as never, event: 'x' }), /kind "gossip" must be one of/);
  });
});
