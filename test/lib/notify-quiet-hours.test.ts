import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuietHours, quietUntil } from '../../lib/ems/notify/quiet-hours';

const tz = 'Europe/Berlin';
const night = { from: '22:00', to: '07:00' };

describe('quiet hours', () => {
  it('span midnight in the EMS time zone', () => {
    // 2026-12-07 is a Monday; Berlin is UTC+1.
    assert.equal(quietUntil(Date.UTC(2026, 11, 7, 20, 59), night, tz), null, '21:59 local is not quiet');
    assert.equal(quietUntil(Date.UTC(2026, 11, 7, 21, 0), night, tz), Date.UTC(2026, 11, 8, 6, 0), '22:00 local: quiet until 07:00 next day');
    assert.equal(quietUntil(Date.UTC(2026, 11, 7, 23, 30), night, tz), Date.UTC(2026, 11, 8, 6, 0), '00:30 local');
    assert.equal(quietUntil(Date.UTC(2026, 11, 8, 5, 59), night, tz), Date.UTC(2026, 11, 8, 6, 0), '06:59 local');
    assert.equal(quietUntil(Date.UTC(2026, 11, 8, 6, 0), night, tz), null, '07:00 local is the end');
  });

  it('end at 07:00 local time on the nights clocks change', () => {
    // Spring forward 2026-03-29 02:00 -> 03:00: the night is an hour shorter, ends 05:00 UTC.
    assert.equal(quietUntil(Date.UTC(2026, 2, 28, 21, 30), night, tz), Date.UTC(2026, 2, 29, 5, 0));
    assert.equal(quietUntil(Date.UTC(2026, 2, 29, 1, 30), night, tz), Date.UTC(2026, 2, 29, 5, 0), '03:30 CEST');
    assert.equal(quietUntil(Date.UTC(2026, 2, 29, 5, 0), night, tz), null);
    // Fall back 2026-10-25 03:00 -> 02:00: an hour longer, ends 06:00 UTC.
    assert.equal(quietUntil(Date.UTC(2026, 9, 24, 20, 0), night, tz), Date.UTC(2026, 9, 25, 6, 0), '22:00 CEST');
    assert.equal(quietUntil(Date.UTC(2026, 9, 25, 5, 59), night, tz), Date.UTC(2026, 9, 25, 6, 0), '06:59 CET');
    // A period inside the repeated hour: 02:00-02:30 both times the wall clock shows it.
    const short = { from: '02:00', to: '02:30' };
    assert.equal(quietUntil(Date.UTC(2026, 9, 25, 0, 10), short, tz), Date.UTC(2026, 9, 25, 0, 30), 'first 02:10 (CEST)');
  });

  it('days name the day a quiet period starts; a same-day period works too', () => {
    const weekend = { from: '22:00', to: '07:00', days: ['fri', 'sat'] as ('fri' | 'sat')[] };
    // Friday 2026-12-11 23:00 local, Saturday 06:00 local: quiet; Sunday 23:00 local: not; Monday 06:00 (started Sunday): not.
    assert.equal(quietUntil(Date.UTC(2026, 11, 11, 22, 0), weekend, tz), Date.UTC(2026, 11, 12, 6, 0));
    assert.equal(quietUntil(Date.UTC(2026, 11, 12, 5, 0), weekend, tz), Date.UTC(2026, 11, 12, 6, 0));
    assert.equal(quietUntil(Date.UTC(2026, 11, 13, 5, 0), weekend, tz), Date.UTC(2026, 11, 13, 6, 0), 'Sunday 06:00, started Saturday');
    assert.equal(quietUntil(Date.UTC(2026, 11, 13, 22, 0), weekend, tz), null, 'Sunday 23:00');
    assert.equal(quietUntil(Date.UTC(2026, 11, 14, 5, 0), weekend, tz), null, 'Monday 06:00, started Sunday');
    const lunch = { from: '12:00', to: '13:00' };
    assert.equal(quietUntil(Date.UTC(2026, 11, 7, 11, 15), lunch, tz), Date.UTC(2026, 11, 7, 12, 0));
    assert.equal(quietUntil(Date.UTC(2026, 11, 7, 12, 15), lunch, tz), null);
  });

  it('rejects bad settings naming the field and the value', () => {
    assert.throws(() => parseQuietHours({ from: '25:00', to: '07:00' }), /quietHours\.from must be a time HH:MM \(00:00\.\.23:59\), got "25:00"/);
    assert.throws(() => parseQuietHours({ from: '22:00', to: '7' }), /quietHours\.to must be a time HH:MM .*got "7"/);
    assert.throws(() => parseQuietHours({ from: '22:00', to: '22:00' }), /must differ, got "22:00"/);
    assert.throws(() => parseQuietHours({ from: '22:00', to: '07:00', days: ['funday' as never] }), /quietHours\.days: "funday" is not a weekday/);
  });
});
