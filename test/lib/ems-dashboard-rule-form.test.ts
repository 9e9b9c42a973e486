/**
 * The rule form on the dashboard's Alarms page: the API body of each condition, active hours as typed, a rule shown in
 * the form, the subjects of the user's folders, the choices (a subject not offered, Delete asked twice); and the tab's
 * form nodes against the alarm API as the dashboard calls it: an operator creates, changes, disables and deletes a
 * rule; a bad value comes back as the API words it; a viewer gets no form and a forged one is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardFlow } from '../../lib/ems/dashboard-flow';
import { MANAGE_GROUP } from '../../lib/ems/dashboard-rules-flow';
import {
  chooseRuleForm, formOfRule, newRuleForm, parseActiveHours, ruleAnswer, ruleBody, ruleChoices, subjectOptions, type DashRule, type RuleClient,
} from '../../lib/ems/dashboard-rules';
import { dashboardPlant, runTabFunction, type DashboardPlant } from '../fixtures/dashboard-plant';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const TZ = 'Europe/Berlin';
const TREE = [{
  _id: 'fa', name: 'Plant A', child_folders: [
    { _id: 'm0', name: 'Meter 0', meter: 'm0', child_folders: [] },
    { _id: 'fh', name: 'Hall 1', child_folders: [{ _id: 'm1', name: 'Meter 1', meter: 'm1', child_folders: [] }] },
  ],
}];

describe('the rule form', () => {
  it('active hours as typed', () => {
    assert.deepEqual(parseActiveHours('always'), { active: null });
    assert.deepEqual(parseActiveHours(''), { active: null });
    assert.deepEqual(parseActiveHours('Mon-Fri 07:00-18:00'), { active: { days: [1, 2, 3, 4, 5], from: '07:00', to: '18:00' } });
    assert.deepEqual(parseActiveHours('every day 22:00-06:00'), { active: { days: [1, 2, 3, 4, 5, 6, 7], from: '22:00', to: '06:00' } });
    assert.deepEqual(parseActiveHours('Sat, Sun 8:00-12:00'), { active: { days: [6, 7], from: '08:00', to: '12:00' } });
    assert.deepEqual(parseActiveHours('Fri-Mon 00:00-24:00'), { active: { days: [1, 5, 6, 7], from: '00:00', to: '24:00' } });
    assert.deepEqual(parseActiveHours('weekdays'), { error: 'active hours "weekdays" must be "always" or days and hours such as "Mon-Fri 07:00-18:00" or "every day 22:00-06:00"' });
  });

  it('the API body of every condition the form offers; numbers that do not parse are sent as typed', () => {
    const form = (o: Record<string, string>) => ({ ...newRuleForm(), name: ' Peak ', subject: 'meter:m1', ...o });
    const body = (o: Record<string, string>, before: DashRule | null = null) => {
      const b = ruleBody(form(o), before);
      assert.ok('body' in b, JSON.stringify(b));
      return b.body;
    };
    assert.deepEqual(body({ value: '50' }), {
      name: 'Peak', subject: { meter: 'm1' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' },
      severity: 'warning', delay_s: 0, hysteresis: 0, active: null, enabled: true,
    });
    assert.deepEqual(body({ value: 'lots' }).condition, { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 'lots', unit: 'kW' });
    assert.deepEqual(body({ type: 'stale', value: '3' }).condition, { type: 'stale', intervals: 3 });
    assert.deepEqual(body({ type: 'poll_failures', value: '' }).condition, { type: 'poll_failures' }, 'empty: the API default');
    assert.deepEqual(body({ type: 'window_consumption', obis: '1-0:1.8.0', window: '1h', direction: 'below', value: '0.5', unit: 'kWh' }).condition,
      { type: 'window_consumption', obis: '1-0:1.8.0', window: '1h', unit: 'kWh', below: 0.5 });
    assert.deepEqual(body({ type: 'anomaly', obis: '1-0:1.8.0', weeks: '6', value: '2' }).condition, { type: 'anomaly', obis: '1-0:1.8.0', weeks: 6, factor: 2 });
    assert.deepEqual(body({ type: 'register_sanity', obis: '1-0:1.8.0' }).condition, { type: 'register_sanity', obis: '1-0:1.8.0' });
    assert.deepEqual(body({ type: 'prepaid_balance_below', value: '-5' }).condition, { type: 'prepaid_balance_below', amount: -5 });
    assert.deepEqual(body({ subject: 'folder:fh', severity: 'critical', delay: '120', active: 'Mon-Fri 07:00-18:00', enabled: 'no', value: '1' }), {
      name: 'Peak', subject: { folder: 'fh', scope: 'subtree' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 1, unit: 'kW' },
      severity: 'critical', delay_s: 120, hysteresis: 0, active: { days: [1, 2, 3, 4, 5], from: '07:00', to: '18:00' }, enabled: false,
    });
    assert.deepEqual(ruleBody(form({ active: 'sometimes' }), null), { error: 'active hours "sometimes" must be "always" or days and hours such as "Mon-Fri 07:00-18:00" or "every day 22:00-06:00"' });
    // An edit keeps what the form does not show: an anomaly's min, a folder's own-meters scope.
    const rule: DashRule = {
      id: 'r1', name: 'Odd', subject: { folder: 'fh', scope: 'folder' }, condition: { type: 'anomaly', obis: '1-0:1.8.0', window: '1h', weeks: 4, factor: 1.5, min: 3, unit: 'kWh' },
      severity: 'info', delay_s: 60, hysteresis: 0, clear_after_s: 0, hold_off_s: 300, active: { days: [6, 7], from: '08:00', to: '12:00' }, enabled: true,
    };
    const shown = formOfRule(rule);
    assert.deepEqual(shown, {
      name: 'Odd', subject: 'folder:fh', type: 'anomaly', obis: '1-0:1.8.0', direction: 'above', value: '1.5', unit: 'kWh', hysteresis: '0', window: '1h', weeks: '4',
      severity: 'info', delay: '60', active: 'Sat, Sun 08:00-12:00', enabled: 'yes',
    });
    const again = ruleBody({ ...shown, value: '2' }, rule);
    assert.ok('body' in again);
    assert.deepEqual([again.body.subject, again.body.condition, again.body.active], [
      { folder: 'fh', scope: 'folder' }, { type: 'anomaly', obis: '1-0:1.8.0', window: '1h', weeks: 4, factor: 2, min: 3, unit: 'kWh' }, rule.active,
    ]);
  });

  it('subjects: the user\'s folders (with everything below) and their meters, never the folders above', () => {
    assert.deepEqual(subjectOptions(TREE, ['fh']), [
      { value: 'folder:fh', label: 'Folder: Plant A / Hall 1 and below' }, { value: 'meter:m1', label: 'Meter: Meter 1 in Plant A / Hall 1' },
    ]);
    assert.deepEqual(subjectOptions(TREE, []).map((o) => o.value), ['folder:fa', 'meter:m0', 'folder:fh', 'meter:m1']);
  });

  it('choices: a rule shown, a subject not offered refused, Enable needs a rule, Delete asks first', () => {
    const client = {} as RuleClient;
    const ch = ruleChoices(client);
    ch.subjects = ['meter:m1'];
    ch.rules = [{ ...formlessRule('r1', 'Peak') }];
    assert.deepEqual(chooseRuleForm(ch, { topic: 'dash-ru-subject', payload: 'folder:fa' }, T0).notice, 'Choose a meter or folder of your folders as the subject');
    assert.equal(ch.form.subject, '');
    assert.deepEqual(chooseRuleForm(ch, { topic: 'dash-ru-enable', payload: 'dash-ru-enable' }, T0).notice, 'Choose a rule to enable first');
    const save = chooseRuleForm(ch, { topic: 'dash-ru-save' }, T0);
    assert.equal(save.call!.op, 'create');
    const picked = chooseRuleForm(ch, { topic: 'dash-ru-rule', payload: 'r1' }, T0);
    assert.deepEqual([picked.form!.name, picked.form!.subject, ch.rule], ['Peak', 'meter:m1', 'r1']);
    assert.deepEqual(chooseRuleForm(ch, { topic: 'dash-ru-disable' }, T0).call, { op: 'update', params: { id: 'r1' }, payload: { enabled: false }, name: 'Peak' });
    const first = chooseRuleForm(ch, { topic: 'dash-ru-delete' }, T0);
    assert.deepEqual([first.call, first.notice], [null, 'Delete the rule "Peak"? Press Delete again within 15 s to confirm']);
    assert.equal(chooseRuleForm(ch, { topic: 'dash-ru-delete' }, T0 + 20_000).call, null, 'too late: asked again');
    assert.deepEqual(chooseRuleForm(ch, { topic: 'dash-ru-delete' }, T0 + 25_000).call, { op: 'delete', params: { id: 'r1' }, payload: {}, name: 'Peak' });
    assert.deepEqual(ruleAnswer({ data: null, error: 'condition.value "lots" must be a number from -1 to 1', status: 400 }, { op: 'create', name: 'Peak' }),
      { ok: false, text: 'Rule "Peak" not saved: condition.value "lots" must be a number from -1 to 1', id: null });
    assert.deepEqual(ruleAnswer({ data: { id: 'r9' }, error: null, status: 201 }, { op: 'create', name: 'Peak' }), { ok: true, text: 'Rule "Peak" created', id: 'r9' });
  });
});

function formlessRule(id: string, name: string): DashRule {
  return { id, name, subject: { meter: 'm1' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 5, unit: 'kW' }, severity: 'warning', delay_s: 0, hysteresis: 0, clear_after_s: 0, hold_off_s: 300, active: null, enabled: true };
}

describe('the tab\'s rule form against the alarm API', () => {
  const flow = dashboardFlow();
  let plant: DashboardPlant;
  const run = (id: string, ctx: Map<string, unknown>, msg: unknown) => runTabFunction(flow, id, ctx, msg, TZ);
  const clientOf = (login: string, role: string) => ({ socketId: `s-${login}`, emsSessionId: `sess-${login}`, emsLogin: login, emsRole: role });

  before(async () => { plant = await dashboardPlant(T0, [['op-a', 'operator', 'a'], ['view-a', 'viewer', 'a']]); });
  after(() => plant.close());

  /** The Alarms page of `login` computed as the tab does: clients, rule requests, the API answers, the rows. */
  async function page(login: string, role: string, ctx: Map<string, unknown>, again?: unknown) {
    const c = clientOf(login, role);
    const refresh = again ?? run('dash-clients', ctx, { topic: '$pageview', payload: { page: { path: '/alarms' } }, _client: c })[1][0];
    const req = run('dash-ru-req', ctx, refresh);
    const [sReq, kept] = run('dash-ru-session-req', ctx, { ...req, payload: await plant.dash(login, 'alarmrules.list'), statusCode: 200 });
    // A timer refresh soon after the last folder tree goes straight to the rows with the names kept.
    if (kept) return { c, out: run('dash-ru-rows', ctx, kept) };
    const tReq = run('dash-ru-tree-req', ctx, { ...sReq, payload: await plant.dash(login, 'auth.session'), statusCode: 200 });
    return { c, out: run('dash-ru-rows', ctx, { ...tReq, payload: await plant.dash(login, 'folders.tree'), statusCode: 200 }) };
  }
  /** A form message through "rule form choices"; a call goes to the API as the dashboard makes it, its answer through "rule answer". */
  async function form(login: string, ctx: Map<string, unknown>, c: unknown, topic: string, payload: unknown = topic) {
    const out = run('dash-ru-choose', ctx, { topic, payload, _client: c });
    const i = out ? out.slice(0, 3).findIndex((m: unknown) => m !== null) : -1;
    if (i < 0) return { notice: out && out[3] && out[3].payload, answer: null, call: null, refresh: null };
    const call = out[i];
    const name = ['alarmrules.create', 'alarmrules.update', 'alarmrules.delete'][i];
    const envelope = await plant.dash(login, name, { params: call.params, body: call.payload });
    const [answer, refresh] = run('dash-ru-result', ctx, { ...call, payload: envelope, statusCode: envelope.status });
    return { notice: null, answer: answer.payload as string, call, refresh };
  }

  it('an operator creates a rule on a meter of hers, sees a bad value refused as the API words it, disables and deletes it', async () => {
    const ctx = new Map<string, unknown>();
    const { c, out } = await page('op-a', 'operator', ctx);
    const [, , show, ruleDropdown, subjectDropdown, refill] = out;
    assert.equal(refill.topic, 'dash-ru-show-form', 'the page view fills the form');
    assert.deepEqual(show.payload, { groups: { show: [MANAGE_GROUP] } });
    assert.deepEqual(ruleDropdown.options, [{ value: 'new', label: 'New rule' }]);
    assert.deepEqual(subjectDropdown.options.map((o: { value: string }) => o.value), [`folder:${plant.folders.a}`, `folder:${plant.folders.hall}`, 'meter:a1'], 'Plant A only');
    assert.equal((await form('op-a', ctx, c, 'dash-ru-subject', `folder:${plant.folders.b}`)).notice, 'Choose a meter or folder of your folders as the subject');
    await form('op-a', ctx, c, 'dash-ru-name', 'Hall power');
    // A later sync of the page (the timer's) leaves what she began typing alone.
    const sync = { _client: c, dash: { page: 'alarms', meter: null, range: '24h', step: 'day', reason: 'tick', sync: true } };
    assert.equal((await page('op-a', 'operator', ctx, sync)).out[5], null, 'no refill of the fields');
    await form('op-a', ctx, c, 'dash-ru-subject', 'meter:a1');
    await form('op-a', ctx, c, 'dash-ru-value', 'lots');
    const bad = await form('op-a', ctx, c, 'dash-ru-save');
    assert.equal(bad.answer, 'Rule "Hall power" not saved: condition.value "lots" must be a number from -1000000000000000 to 1000000000000000');
    await form('op-a', ctx, c, 'dash-ru-value', '50');
    const made = await form('op-a', ctx, c, 'dash-ru-save');
    assert.equal(made.answer, 'Rule "Hall power" created');
    const [rule] = (await plant.dash('boss', 'alarmrules.list')).data as DashRule[];
    assert.deepEqual([rule.name, rule.subject, rule.condition, (rule as unknown as { created_by: string }).created_by],
      ['Hall power', { meter: 'a1' }, { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' }, 'op-a']);
    // The page again after the answer: the new rule is chosen in the rule dropdown.
    const after = (await page('op-a', 'operator', ctx, made.refresh)).out;
    assert.deepEqual([after[3].options.map((o: { label: string }) => o.label), after[3].payload], [['New rule', 'Hall power'], rule.id]);
    const off = await form('op-a', ctx, c, 'dash-ru-disable');
    assert.equal(off.answer, 'Rule "Hall power" disabled');
    assert.equal(((await plant.dash('boss', 'alarmrules.get', { params: { id: rule.id } })).data as DashRule).enabled, false);
    await page('op-a', 'operator', ctx, off.refresh);
    assert.match((await form('op-a', ctx, c, 'dash-ru-delete')).notice, /Press Delete again/);
    assert.equal((await form('op-a', ctx, c, 'dash-ru-delete')).answer, 'Rule "Hall power" deleted');
    assert.deepEqual((await plant.dash('boss', 'alarmrules.list')).data, []);
  });

  it('a viewer gets no form; a forged form message is refused by the API', async () => {
    const ctx = new Map<string, unknown>();
    const { c, out } = await page('view-a', 'viewer', ctx);
    assert.deepEqual(out.slice(2), [null, null, null, null]);
    await form('view-a', ctx, c, 'dash-ru-name', 'Forged');
    const forged = await form('view-a', ctx, c, 'dash-ru-save');
    assert.equal(forged.answer, 'Refused: this needs the operator role; "view-a" is a viewer');
    assert.deepEqual((await plant.dash('boss', 'alarmrules.list')).data, []);
  });
});
