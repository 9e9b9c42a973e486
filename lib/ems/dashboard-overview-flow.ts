/**
 * The Overview page of the "EMS Dashboard" tab (see lib/ems/dashboard-flow.ts) at /dashboard/overview, from the shared
 * fleet state of lib/ems/dashboard-fleet.ts: totals today and this month, a page of meters (Find meter), the stale
 * meters. Function nodes run lib/ems/dashboard.ts's and lib/ems/dashboard-fleet.ts's functions.
 */
import { mainRegister } from '../model/obis';
import { emsTimeZone, localDate, monthSummary, overviewFromLatest, quantityOf } from './dashboard';
import { clientPicks, contribute, FLEET_LIMITS, fleetLatest, fleetStep, fleetSummary, meterMatches, overviewView, scopeTotals } from './dashboard-fleet';
import { api, at, fn, STORE, TAB, table, text, textInput, TZ, type FlowNode } from './dashboard-nodes';

/** The fleet bounds in a function node. */
export const LIMITS = `const limits = ${JSON.stringify(FLEET_LIMITS)};`;

/**
 * The overview from the shared fleet state (lib/ems/dashboard-fleet.ts): a client's refresh starts its scope's step
 * if one is due (bounded reads of newest values and month reports, whose answers update the scope's figures) and
 * shows the client its bounded view; the step's last answer shows the new view to every client of the scope.
 */
export function overviewNodes(): FlowNode[] {
  const step = `${fleetStep}
${localDate}
${LIMITS}
${TZ}
const fleet = flow.get('dash_fleet');
const key = msg.scopeKey;
if (!fleet || !fleet.scopes[key]) return null;
const now = Date.now();
const s = fleetStep(fleet, key, now, limits);
flow.set('dash_fleet', fleet);
const first = localDate(now, tz).slice(0, 8) + '01';
const sync = !!(msg.dash && msg.dash.sync);
const clients = flow.get('dash_clients') || {};
const entry = clients[msg._client && msg._client.socketId];
const find = sync && entry ? { _client: msg._client, payload: entry.find || '' } : null;
// This client's view now, unless the step just started (or still being answered) shows it to every client of the
// scope when answered, or another client's step showed it within half a step.
const started = !!s && s.latest.length + s.reports.length > 0;
const scope = fleet.scopes[key];
const busy = scope.pending > 0 && now - scope.stepAt < limits.stepEveryMs;
const recent = entry && entry.viewedAt > now - limits.stepEveryMs / 2 && msg.dash && msg.dash.reason === 'tick';
const view = started || busy || recent ? null : { _client: msg._client, scopeKey: key, only: msg._client.socketId };
node.status({ fill: 'green', shape: 'dot', text: s ? 'step: ' + s.latest.length + ' meters read, ' + s.reports.length + ' reports' : 'shared step already done' });
return [
  s ? s.latest.map((id) => ({ meter: id, fleetMeter: id, scopeKey: key, payload: {} })) : null,
  s ? s.reports.map((id) => ({ _client: msg._client, fleetMeter: id, scopeKey: key, topic: id, params: {}, query: { meter: id, date1: first, step: 'day' }, payload: {} })) : null,
  view,
  find,
];`;
  const line = `${mainRegister}
${quantityOf}
${overviewFromLatest}
${contribute}
${fleetLatest}
${emsTimeZone}
${LIMITS}
const fleet = flow.get('dash_fleet');
if (!fleet) return null;
// One message per meter: the zone and its clock are made once per deploy and kept in node context (memory).
let tz = context.get('tz');
let format = context.get('format');
if (!tz || !format) {
  tz = emsTimeZone(env.get('EMS_TIME_ZONE'));
  format = new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  context.set('tz', tz);
  context.set('format', format);
}
const done = fleetLatest(fleet, msg.scopeKey, msg.fleetMeter, msg.payload, Date.now(), tz, limits.minStaleMs, format);
flow.set('dash_fleet', fleet);
return done ? { scopeKey: msg.scopeKey } : null;`;
  const sum = `${quantityOf}
${monthSummary}
${localDate}
${contribute}
${fleetSummary}
${LIMITS}
${TZ}
const fleet = flow.get('dash_fleet');
if (!fleet) return null;
const one = monthSummary(msg.payload, localDate(Date.now(), tz));
if (!one) node.status({ fill: 'red', shape: 'ring', text: String(msg.fleetMeter) + ': ' + ((msg.payload && msg.payload.error) || 'no report') });
const done = fleetSummary(fleet, msg.scopeKey, msg.fleetMeter, one && one.meter === msg.fleetMeter ? one : null, Date.now(), limits.minStaleMs);
flow.set('dash_fleet', fleet);
return done ? { scopeKey: msg.scopeKey } : null;`;
  const views = `${scopeTotals}
${overviewView}
${meterMatches}
${clientPicks}
${LIMITS}
${TZ}
// One client's view (msg.only), or every overview client of the scope after a step: each at most limits.rows rows.
const fleet = flow.get('dash_fleet');
const clients = flow.get('dash_clients') || {};
if (!fleet || !fleet.scopes[msg.scopeKey]) return null;
const now = Date.now();
const outs = [[], [], [], [], [], [], [], []];
for (const [sid, c] of Object.entries(clients)) {
  if (msg.only ? sid !== msg.only : (c.gone || c.page !== 'overview')) continue;
  const session = fleet.sessions[c.client && c.client.emsSessionId];
  if (!session || session.key !== msg.scopeKey) continue;
  const v = overviewView(fleet, msg.scopeKey, clientPicks(c, fleet.scopes[msg.scopeKey], limits.pick), now, tz, limits);
  c.viewedAt = now;
  const m = { _client: c.client };
  [v.meters, v.alarmCount, v.alarms, v.totals.today, v.totals.todayCost, v.totals.month, v.totals.monthCost, v.shown].forEach((p, i) => outs[i].push({ ...m, payload: p }));
}
flow.set('dash_fleet', fleet);
flow.set('dash_clients', clients);
node.status({ fill: 'green', shape: 'dot', text: outs[0].length + ' views; ' + fleet.work.steps + ' steps, ' + fleet.work.scanned + ' meters read' });
return outs;`;
  const g = 'dash-grp-ov-energy';
  return [
    fn('dash-ov-step', 'shared step of the user\'s meters', step, [['dash-ov-latest'], ['dash-ov-report'], ['dash-ov-views'], ['dash-ov-find']], at(3, 0)),
    {
      id: 'dash-ov-latest', type: 'ems-store-query', z: TAB, name: 'newest values of a meter', store: STORE, mode: 'latest', meter: '', obis: '', range: '', window: '', fn: '', limit: '', interval: '',
      ...at(4, -1), wires: [['dash-ov-line']],
    },
    fn('dash-ov-line', 'meter row and figures', line, [['dash-ov-views']], at(5, -1)),
    api('dash-ov-report', 'month report of a meter', 'reports.tariffs', ['dash-ov-sum'], at(4, 3)),
    fn('dash-ov-sum', 'month figures', sum, [['dash-ov-views']], at(5, 3)),
    fn('dash-ov-views', 'overview views', views, [
      ['dash-ov-meters'], ['dash-ov-alarm-count'], ['dash-ov-alarms'], ['dash-ov-today'], ['dash-ov-today-cost'], ['dash-ov-month'], ['dash-ov-month-cost'], ['dash-ov-shown'],
    ], at(6, 1)),
    // Wrapped: one amount per medium and unit can be longer than the group is wide.
    text('dash-ov-today', g, 'Consumption today', 1, at(7, 3), true),
    text('dash-ov-today-cost', g, 'Cost today', 2, at(7, 4)),
    text('dash-ov-month', g, 'Consumption this month', 3, at(7, 5), true),
    text('dash-ov-month-cost', g, 'Cost this month', 4, at(7, 6)),
    // The group titles name the tables: no label of their own (a title once).
    text('dash-ov-alarm-count', 'dash-grp-ov-alarms', 'Meters without recent readings', 1, at(7, 1)),
    textInput('dash-ov-find', 'dash-grp-ov-meters', 'Find meter', 1, 'dash-find', 'Part of a meter id: the meters shown are those it matches', ['dash-clients'], at(7, -1)),
    text('dash-ov-shown', 'dash-grp-ov-meters', 'Shown', 2, at(7, -0.5)),
    table('dash-ov-meters', 'dash-grp-ov-meters', '', 3, at(7, 0)),
    table('dash-ov-alarms', 'dash-grp-ov-alarms', '', 2, at(7, 2)),
  ];
}
