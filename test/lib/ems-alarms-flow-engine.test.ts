/** The in-memory alarm engine of the ems-alarm node: the EMS's rules and lifecycle on what a flow feeds in. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkFlowRules, FlowAlarmEngine, type FlowEngineOptions } from '../../lib/ems/alarms/flow-engine';
import type { AlarmNotification } from '../../lib/ems/alarms/types';
import { validateNotification } from '../../lib/ems/notify/types';
import { Quality, type Reading } from '../../lib/model';

const T0 = Date.parse('2026-12-07T10:00:00Z'); // Monday 11:00 in Berlin
const S = 1000;
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };
const kw = (value: number, time: number, meter = 'main'): Reading => ({ meter, time, obis: '1-0:1.7.0', value, unit: 'kW' });
const kwh = (value: number, time: number, extra: Partial<Reading> = {}): Reading => ({ meter: 'main', time, obis: '1-0:1.8.0', value, unit: 'kWh', ...extra });
const engine = (rules: unknown, opts: FlowEngineOptions = {}) => new FlowAlarmEngine(checkFlowRules(rules), opts, T0);
const brief = (ts: AlarmNotification[]) => ts.map((t) => `${t.transition} #${t.alarmId} ${t.meterId}${t.value !== undefined ? ` ${t.value}` : ''}`);

describe('the flow alarm engine', () => {
  it('raises a threshold alarm once the condition held delay_s, with value, limit, unit and message', async () => {
    const e = engine({ name: 'Peak', condition: POWER, delay_s: 60, severity: 'critical' });
    assert.deepEqual((await e.onReadings([kw(62.3, T0)], T0)).transitions, []);
    assert.deepEqual(await e.tick(T0 + 59 * S), [], 'not before the delay ran out');
    const [t] = await e.tick(T0 + 60 * S);
    assert.deepEqual(t, {
      alarmId: '1', rule: 'Peak', severity: 'critical', state: 'raised', meterId: 'main', meterName: 'main', folderPath: [], since: T0 + 60 * S, at: T0 + 60 * S,
      value: 62.3, limit: 50, unit: 'kW', transition: 'raised', ruleId: 'Peak', folderId: null, message: 'Peak: 1-0:1.7.0 62.3 kW above 50 kW at main', raiseCount: 1, notify: 'subscribers',
    });
    assert.doesNotThrow(() => validateNotification(t), 'a transition is a notification for lib/ems/notify');
    assert.deepEqual(e.openAlarms().map((a) => [a.id, a.state, a.severity]), [[1, 'raised', 'critical']]);
    assert.deepEqual(await e.tick(T0 + 120 * S), [], 'raised once');
  });

  it('a dip below the limit restarts the delay; readings in W are converted to the rule\'s kW', async () => {
    const e = engine({ name: 'Peak', condition: POWER, delay_s: 60 });
    await e.onReadings([kw(60, T0)], T0);
    await e.onReadings([kw(40, T0 + 30 * S)], T0 + 30 * S);
    await e.onReadings([{ ...kw(61_000, T0 + 40 * S), unit: 'W' }], T0 + 40 * S);
    assert.deepEqual(await e.tick(T0 + 60 * S), []);
    assert.deepEqual(brief(await e.tick(T0 + 100 * S)), ['raised #1 main 61']);
  });

  it('clears with hysteresis: inside the band holds, beyond it clears (after clear_after_s)', async () => {
    const e = engine({ name: 'Peak', condition: POWER, hysteresis: 5, clear_after_s: 10 });
    assert.deepEqual(brief((await e.onReadings([kw(62, T0)], T0)).transitions), ['raised #1 main 62']);
    assert.deepEqual((await e.onReadings([kw(47, T0 + 10 * S)], T0 + 10 * S)).transitions, [], '47 kW is inside the 5 kW band');
    assert.deepEqual(await e.tick(T0 + 60 * S), [], 'the band never clears');
    assert.deepEqual((await e.onReadings([kw(44, T0 + 70 * S)], T0 + 70 * S)).transitions, [], 'below the band, clear_after_s runs');
    const [t] = await e.tick(T0 + 80 * S);
    assert.equal(t.transition, 'cleared');
    assert.equal(t.state, 'cleared');
    assert.equal(t.value, 44, 'the value that cleared it');
    assert.equal(t.since, T0, 'since the raise');
    assert.deepEqual(e.openAlarms(), []);
  });

  it('reopens the same alarm within hold_off_s, raises a new one after it', async () => {
    const e = engine({ name: 'Peak', condition: POWER, hold_off_s: 300 });
    const at = async (value: number, t: number) => brief([...(await e.onReadings([kw(value, t)], t)).transitions, ...(await e.tick(t))]);
    assert.deepEqual(await at(60, T0), ['raised #1 main 60']);
    assert.deepEqual(await at(40, T0 + 60 * S), ['cleared #1 main 40']);
    const reopened = await e.onReadings([kw(70, T0 + 120 * S)], T0 + 120 * S);
    assert.deepEqual(brief(reopened.transitions), ['reopened #1 main 70']);
    assert.equal(reopened.transitions[0].state, 'raised');
    assert.equal(reopened.transitions[0].raiseCount, 2);
    assert.equal(reopened.transitions[0].since, T0, 'the same alarm, raised first at T0');
    assert.deepEqual(await at(40, T0 + 180 * S), ['cleared #1 main 40']);
    assert.deepEqual(await at(70, T0 + 481 * S), ['raised #2 main 70'], 'more than 300 s after the clear: a new alarm');
  });

  it('stale on tick: k x the node\'s interval or the message\'s; readings clear it; a subject meter never seen counts from the start', async () => {
    const e = engine([{ name: 'Silent', condition: { type: 'stale', intervals: 2 } }, { name: 'Silent spare', subject: { meter: 'spare' }, condition: { type: 'stale', intervals: 2 } }], { intervalS: 60 });
    await e.onReadings([kw(10, T0)], T0);
    await e.onReadings([kw(10, T0, 'fast')], T0, 10);
    assert.deepEqual(brief(await e.tick(T0 + 20 * S)), ['raised #1 fast 20'], '2 x 10 s for the meter of a message with an interval');
    assert.deepEqual(brief(await e.tick(T0 + 119 * S)), []);
    const stale = await e.tick(T0 + 120 * S);
    assert.deepEqual(brief(stale).sort(), ['raised #2 main 120', 'raised #3 spare 120']);
    assert.match(stale.find((t) => t.meterId === 'main')!.message, /^Silent: no reading for 120 s \(2 x interval 60 s = 120 s\) at main$/);
    assert.equal(stale.find((t) => t.meterId === 'main')!.unit, 's');
    assert.deepEqual(brief((await e.onReadings([kw(10, T0 + 130 * S)], T0 + 130 * S)).transitions), ['cleared #2 main 0']);
  });

  it('register_sanity: a register going backwards raises (across messages), a sane reading clears', async () => {
    const e = engine({ name: 'Register', condition: { type: 'register_sanity', obis: '1.8.0', kinds: ['backwards', 'reset', 'spike'] } });
    assert.deepEqual((await e.onReadings([kwh(100, T0)], T0)).transitions, []);
    const [t] = (await e.onReadings([kwh(99.5, T0 + 60 * S)], T0 + 60 * S)).transitions;
    assert.equal(t.transition, 'raised');
    assert.equal(t.message, 'Register: register 1-0:1.8.0 backwards: 99.5 kWh after 100 kWh at main');
    assert.deepEqual(brief((await e.onReadings([kwh(99.6, T0 + 120 * S)], T0 + 120 * S)).transitions), ['cleared #1 main 99.6']);
    const [reset] = (await e.onReadings([kwh(3, T0 + 180 * S, { quality: Quality.COUNTER_RESET })], T0 + 180 * S)).transitions;
    assert.match(reset.message, /reset: 3 kWh after 99.6 kWh/);
  });

  it('poll_failures: N failed polls in a row raise, a good poll clears', async () => {
    const e = engine({ name: 'Polls', condition: { type: 'poll_failures', count: 3 } });
    const poll = async (ok: boolean, t: number) => brief((await e.onPollResults([{ meter: 'main', ok }], t)).transitions);
    assert.deepEqual(await poll(false, T0), []);
    assert.deepEqual(await poll(false, T0 + S), []);
    assert.deepEqual(await poll(false, T0 + 2 * S), ['raised #1 main 3']);
    assert.deepEqual(await poll(true, T0 + 3 * S), ['cleared #1 main 0']);
    const bad = await e.onPollResults([{ meter: 'main', ok: 'no' }, { ok: false }], T0);
    assert.deepEqual(bad.refused, [{ index: 0, message: 'poll result.ok must be true or false, got "no"' }, { index: 1, message: 'poll result.meter must be a meter id, got undefined' }]);
  });

  it('window_consumption from the readings seen: evaluated at the first reading of the next window; a partial first window is not', async () => {
    const e = engine({ name: 'Hourly', condition: { type: 'window_consumption', window: '1h', above: 10 } });
    const feed = async (value: number, minutes: number) => brief((await e.onReadings([kwh(value, T0 + minutes * 60 * S)], T0 + minutes * 60 * S)).transitions);
    assert.deepEqual(await feed(100, 10), []);
    assert.deepEqual(await feed(120, 60), [], '10:10-11:00 is a partial window: not evaluated');
    assert.deepEqual(await feed(126, 90), []);
    assert.deepEqual(await feed(133, 125), [], '11:00-12:00: 126 (the last reading before 12:00) - 120 = 6 kWh');
    assert.deepEqual(await feed(140, 150), []);
    const [t] = (await e.onReadings([kwh(145, T0 + 180 * 60 * S)], T0 + 180 * 60 * S)).transitions;
    assert.equal(t.transition, 'raised', '12:00-13:00: 145 (at 13:00) - 126 = 19 kWh');
    assert.equal(t.value, 19);
    assert.match(t.message, /^Hourly: consumption 19 kWh in 1h from 2026-12-07 12:00 above 10 at main$/, "the window in local time");
  });

  it('a raised alarm is acknowledged once, by someone, with a note; then it clears as usual', async () => {
    const e = engine({ name: 'Peak', condition: POWER });
    const [raised] = (await e.onReadings([kw(60, T0)], T0)).transitions;
    const acked = await e.ack(raised.alarmId, 'fan checked', 'olga', T0 + 10 * S);
    assert.deepEqual([acked.transition, acked.state, acked.by, acked.note, acked.at, acked.since], ['acknowledged', 'acknowledged', 'olga', 'fan checked', T0 + 10 * S, T0]);
    assert.doesNotThrow(() => validateNotification(acked));
    assert.deepEqual(e.openAlarms().map((a) => [a.id, a.state, a.ackedBy, a.ackNote]), [[1, 'acknowledged', 'olga', 'fan checked']]);
    await assert.rejects(e.ack(1, undefined, 'ivan', T0), /alarm 1 is acknowledged \(by olga\); only a raised alarm can be acknowledged/);
    await assert.rejects(e.ack(7, undefined, 'ivan', T0), /alarm 7 is unknown/);
    await assert.rejects(e.ack('x', undefined, 'ivan', T0), /alarm "x" must be an alarm id/);
    await assert.rejects(e.ack(1, undefined, '', T0), /by "" must be a name/);
    assert.deepEqual(brief((await e.onReadings([kw(10, T0 + 20 * S)], T0 + 20 * S)).transitions), ['cleared #1 main 10']);
  });

  it('active hours in the configured time zone: no new alarm outside them', async () => {
    const rule = { name: 'Office', condition: POWER, active: { days: [1, 2, 3, 4, 5], from: '08:00', to: '12:00' } };
    const berlin = engine(rule, { timeZone: 'Europe/Berlin' });
    assert.deepEqual(brief((await berlin.onReadings([kw(60, T0)], T0)).transitions), ['raised #1 main 60'], 'Monday 11:00 in Berlin');
    const tokyo = engine(rule, { timeZone: 'Asia/Tokyo' });
    assert.deepEqual((await tokyo.onReadings([kw(60, T0)], T0)).transitions, [], 'Monday 19:00 in Tokyo');
  });

  it('a rule without a subject watches every meter fed in, a rule with one only its meter', async () => {
    const e = engine([{ name: 'Any', condition: POWER }, { name: 'Hall', subject: { meter: 'hall' }, condition: { ...POWER, value: 5 } }]);
    const { transitions } = await e.onReadings([kw(60, T0, 'a'), kw(8, T0, 'hall'), kw(70, T0, 'b')], T0);
    assert.deepEqual(transitions.map((t) => `${t.rule} ${t.meterId}`).sort(), ['Any a', 'Any b', 'Hall hall']);
  });

  it('refuses bad readings by index and still evaluates the others; tracks at most maxMeters meters', async () => {
    const e = engine({ name: 'Peak', condition: POWER }, { maxMeters: 2 });
    const r = await e.onReadings([kw(60, T0, 'a'), { ...kw(60, T0, 'b'), value: 'high' }, { ...kw(60, T0, 'b'), obis: 'power' }, kw(60, T0, 'b'), kw(60, T0, 'c')], T0);
    assert.deepEqual(brief(r.transitions), ['raised #1 a 60', 'raised #2 b 60']);
    assert.deepEqual(r.refused, [
      { index: 1, message: 'reading.value must be a finite number, got "high"' },
      { index: 2, message: 'reading.obis "power" must be an OBIS code such as "1-0:1.8.0"' },
      { index: 4, message: 'meter "c" refused: this node already tracks 2 meters (the most one node holds); split the meters over several nodes' },
    ]);
  });

  it('checks rules naming the field and value; EMS-only conditions and folder subjects are refused', () => {
    assert.throws(() => checkFlowRules({ name: 'x', condition: { ...POWER, value: 'lots' } }), /^Error: rule: condition.value "lots" must be a number/);
    assert.throws(() => checkFlowRules({ name: 'x', condition: { type: 'anomaly' } }), /condition.type "anomaly" is evaluated by the EMS only/);
    assert.throws(() => checkFlowRules({ name: 'x', subject: { folder: 'f1' }, condition: POWER }), /subject \{"folder":"f1"\} must be \{"meter": id\} or left out/);
    assert.throws(() => checkFlowRules([{ name: 'x', condition: POWER }, { name: 'x', condition: POWER }]), /rules\[1\]: name "x" is used twice/);
    assert.throws(() => checkFlowRules({ name: 'x', condition: POWER, hysteresis: 2, delay_s: -1 }), /delay_s -1 must be a whole number from 0/);
    assert.throws(() => checkFlowRules([]), /1 to 100 rules, got 0/);
    const [rule] = checkFlowRules({ name: ' Peak ', condition: { ...POWER, obis: '1.7.0' } });
    assert.deepEqual([rule.id, rule.subject, rule.severity, rule.hold_off_s, (rule.condition as { obis: string }).obis], ['Peak', null, 'warning', 300, '1-0:1.7.0']);
    assert.throws(() => new FlowAlarmEngine([rule], { timeZone: 'Mars/Olympus' }), /timeZone "Mars\/Olympus" must be an IANA time zone/);
  });

  it('state survives as a JSON snapshot; a changed rule\'s open alarm clears on the next call', async () => {
    const rules = [{ name: 'Peak', condition: POWER }, { name: 'Low', condition: { ...POWER, direction: 'below', value: 5 } }];
    const e = engine(rules);
    await e.onReadings([kw(60, T0, 'a'), kw(1, T0, 'b')], T0);
    const snapshot = e.toJSON();
    const saved = JSON.parse(JSON.stringify(snapshot));
    await e.onReadings([kw(10, T0 + S, 'a'), kw(9, T0 + S, 'b')], T0 + S);
    assert.deepEqual(snapshot, saved, 'a snapshot, not a view: later readings leave it as it was');
    const same = engine(rules);
    same.restore(saved, T0 + S);
    assert.deepEqual(same.openAlarms(), saved.alarms, 'both alarms open as saved');
    assert.deepEqual(brief((await same.onReadings([kw(10, T0 + 2 * S, 'a')], T0 + 2 * S)).transitions), ['cleared #1 a 10']);
    assert.deepEqual(brief((await same.onReadings([kw(70, T0 + 3 * S, 'c')], T0 + 3 * S)).transitions), ['raised #3 c 70'], 'ids go on');
    const changed = engine([rules[0], { ...rules[1], condition: { ...rules[1].condition, value: 2 } }]);
    changed.restore(saved, T0 + S);
    assert.deepEqual(changed.openAlarms().map((a) => a.rule), ['Peak']);
    assert.deepEqual(brief(await changed.tick(T0 + 2 * S)), ['cleared #2 b 1']);
    assert.throws(() => changed.restore({ version: 2 }, T0), /not one of this engine/);
    assert.throws(() => changed.restore({ ...saved, nextId: 1, meters: [['a', 1]] }, T0), /not one of this engine/);
    assert.deepEqual(changed.openAlarms().map((a) => a.rule), ['Peak'], 'a bad snapshot changes nothing');
  });
});
