import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatLocalTime, renderBatch, renderDigest, renderNotification } from '../../lib/ems/notify/message';
import { validateNotification } from '../../lib/ems/notify/types';
import { alarm } from '../fixtures/notify/fakes';

const tz = 'Europe/Berlin';

describe('notification messages', () => {
  it('say what, where, since when (EMS local time), the value with the limit and the link', () => {
    const n = alarm({ alarmId: 'a-17', severity: 'critical', since: Date.UTC(2026, 11, 7, 21, 30), at: Date.UTC(2026, 11, 7, 21, 30) });
    const m = renderNotification(n, { timeZone: tz });
    assert.equal(m.subject, '[EMS critical] Raised: Power above 50 kW at Main incomer: 62.4 kW (limit 50 kW)');
    assert.match(m.text, /^Alarm: Power above 50 kW$/m);
    assert.match(m.text, /^Severity: critical$/m);
    assert.match(m.text, /^Where: Site A \/ Building 1 \/ Main incomer$/m);
    assert.match(m.text, /^Since: 2026-12-07 22:30 UTC\+01:00$/m, 'Berlin winter time');
    assert.match(m.text, /^Value: 62\.4 kW \(limit 50 kW\)$/m);
    assert.match(m.text, /^Dashboard: https:\/\/ems\.example\/dashboard\/alarms\/a1$/m);
    assert.match(m.html, /<a href="https:\/\/ems\.example\/dashboard\/alarms\/a1">/);
  });

  it('a cleared or acknowledged alarm names the transition time, who and the note', () => {
    const since = Date.UTC(2026, 6, 1, 6, 0);
    const c = renderNotification(alarm({ state: 'cleared', since, at: since + 90 * 60_000, value: 41 }), { timeZone: tz });
    assert.equal(c.subject, '[EMS warning] Cleared: Power above 50 kW at Main incomer');
    assert.match(c.text, /^Since: 2026-07-01 08:00 UTC\+02:00$/m, 'Berlin summer time');
    assert.match(c.text, /^Cleared: 2026-07-01 09:30 UTC\+02:00$/m);
    const a = renderNotification(alarm({ state: 'acknowledged', by: 'operator1', note: 'on it' }), { timeZone: 'UTC', product: 'Plant EMS' });
    assert.match(a.subject, /^\[Plant EMS warning\] Acknowledged: /);
    assert.match(a.text, /^By: operator1$/m);
    assert.match(a.text, /^Note: on it$/m);
  });

  it('escapes every field in HTML and keeps subjects short', () => {
    const n = alarm({ rule: '<script>alert(1)</script>', meterName: 'A & B "hall"', note: "<img src=x onerror='x'>", rule2: undefined } as never);
    const m = renderNotification({ ...n, rule: `${'<b>'.repeat(60)}` }, { timeZone: tz });
    assert.ok(m.subject.length <= 120, `subject of ${m.subject.length} characters`);
    const h = renderNotification(n, { timeZone: tz }).html;
    assert.doesNotMatch(h, /<script>|<img/);
    assert.match(h, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(h, /A &amp; B &quot;hall&quot;/);
  });

  it('a digest lists every notification, most severe first, with counts in the subject', () => {
    const ns = [alarm({ severity: 'info', rule: 'Info rule' }), alarm({ severity: 'critical', rule: 'Critical rule' }), alarm({ severity: 'warning' }), alarm({ severity: 'critical', rule: 'Critical rule' })];
    const d = renderDigest(ns, { timeZone: tz });
    assert.equal(d.subject, '[EMS] 4 alarm notifications (2 critical, 1 warning, 1 info)');
    const lines = d.text.split('\n').filter((l) => / raised: /.test(l));
    assert.equal(lines.length, 4);
    assert.match(lines[0], /CRITICAL raised: Critical rule at Site A \/ Building 1 \/ Main incomer - 62\.4 kW \(limit 50 kW\)/);
    assert.match(lines[3], /INFO raised: Info rule/);
    assert.equal((d.html.match(/<li>/g) ?? []).length, 4);
    assert.equal(renderBatch({ notifications: [ns[0]], digest: false }, { timeZone: tz }).subject, renderNotification(ns[0], { timeZone: tz }).subject);
    assert.throws(() => renderBatch({ notifications: [], digest: true }, { timeZone: tz }), /batch\.notifications must not be empty/);
  });

  it('formats local time with the offset across a DST change', () => {
    assert.equal(formatLocalTime(Date.UTC(2026, 2, 29, 0, 59), tz), '2026-03-29 01:59 UTC+01:00');
    assert.equal(formatLocalTime(Date.UTC(2026, 2, 29, 1, 0), tz), '2026-03-29 03:00 UTC+02:00');
    assert.equal(formatLocalTime(Date.UTC(2026, 0, 1, 12, 0), 'America/New_York'), '2026-01-01 07:00 UTC-05:00');
  });

  it('rejects a malformed notification naming the field and the value', () => {
    assert.throws(() => validateNotification({ ...alarm(), severity: 'fatal' }), /notification\.severity must be info \| warning \| critical, got "fatal"/);
    assert.throws(() => validateNotification({ ...alarm(), at: 'now' }), /notification\.at must be a time in epoch ms, got "now"/);
    assert.throws(() => validateNotification({ ...alarm(), link: 'javascript:alert(1)' }), /notification\.link must be an http\(s\) URL/);
    assert.throws(() => validateNotification({ ...alarm(), folderPath: 'Site A' }), /notification\.folderPath must be an array/);
  });
});
