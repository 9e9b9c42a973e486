/**
 * The "EMS Dashboard" tab of flows/ems.json: Dashboard 2.0 config nodes (base, theme, pages, groups) and the
 * flows behind the four pages. Function nodes embed the compiled source of lib/ems/dashboard.ts's shaping
 * functions, so the flow runs what the unit tests check (test/lib/ems-dashboard.test.ts fails when the shipped
 * tab differs). Regenerate the tab (other nodes untouched) after a change:
 *   npm run build && node -e "const fs = require('fs'), f = 'flows/ems.json';
 *     const keep = JSON.parse(fs.readFileSync(f, 'utf8')).filter((n) => n.id !== 'ems-dash-tab' && !n.id.startsWith('dash-'));
 *     fs.writeFileSync(f, JSON.stringify([...keep, ...require('./dist/lib/ems/dashboard-flow').dashboardFlow()], null, 4) + '\n')"
 */
import { chartPoints, eventRows, liveValues, localDate, monthSummary, overviewFromLatest, overviewTotals, RANGES, readingsRequest, reportRows } from './dashboard';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const TAB = 'ems-dash-tab';
const SYSTEM = 'ems-system-main';
const STORE = 'ems-store-main';
const TZ = "const tz = env.get('EMS_TIME_ZONE') || 'UTC';";

/** Column x positions and row y of a node on the tab. */
const at = (col: number, row: number) => ({ x: 390 + col * 230, y: 60 + row * 60 });

function fn(id: string, name: string, body: string, wires: string[][], pos: { x: number; y: number }): FlowNode {
  return { id, type: 'function', z: TAB, name, func: body, outputs: wires.length, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], ...pos, wires };
}
function inject(id: string, name: string, seconds: number, delay: number, wires: string[], pos: { x: number; y: number }): FlowNode {
  return { id, type: 'inject', z: TAB, name, props: [], repeat: String(seconds), crontab: '', once: true, onceDelay: String(delay), topic: '', ...pos, wires: [wires] };
}
function api(id: string, name: string, operation: string, wires: string[], pos: { x: number; y: number }): FlowNode {
  return { id, type: 'ems-api', z: TAB, name, system: SYSTEM, operation, ...pos, wires: [wires] };
}
function text(id: string, group: string, label: string, order: number, pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-text', z: TAB, group, order, width: 0, height: 0, name: '', label, format: '{{msg.payload}}', layout: 'row-spread',
    style: false, font: '', fontSize: 16, color: '#717171', wrapText: false, className: `ems-${id}`, value: 'payload', valueType: 'msg', ...pos, wires: [],
  };
}
function table(id: string, group: string, label: string, order: number, pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-table', z: TAB, group, name: '', label, order, width: 0, height: 0, maxrows: 0, passthru: false, autocols: true, showSearch: false,
    deselect: true, selectionType: 'none', columns: [], mobileBreakpoint: 'sm', mobileBreakpointType: 'defaults', action: 'replace', className: `ems-${id}`, ...pos, wires: [[]],
  };
}
function dropdown(id: string, group: string, label: string, order: number, topic: string, options: { value: string; label: string }[], wires: string[], pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-dropdown', z: TAB, group, name: '', label, tooltip: '', order, width: 0, height: 0, passthru: false, multiple: false, chips: false,
    clearable: false, options: options.map((o) => ({ ...o, type: 'str' })), payload: '', topic, topicType: 'str', className: `ems-${id}`, typeIsComboBox: false,
    msgTrigger: 'onChange', ...pos, wires: [wires],
  };
}

function configNodes(): FlowNode[] {
  const page = (key: string, name: string, icon: string, order: number): FlowNode => ({
    id: `dash-page-${key}`, type: 'ui-page', name, ui: 'dash-base', path: `/${key}`, icon, layout: 'grid', theme: 'dash-theme', order,
    breakpoints: [{ name: 'Default', px: 0, cols: 3 }, { name: 'Tablet', px: 576, cols: 6 }, { name: 'Small Desktop', px: 768, cols: 9 }, { name: 'Desktop', px: 1024, cols: 12 }],
    className: '', visible: 'true', disabled: 'false',
  });
  const group = (id: string, name: string, page: string, width: number, order: number): FlowNode => ({
    id, type: 'ui-group', name, page: `dash-page-${page}`, width, height: 1, order, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default',
  });
  return [
    {
      id: 'dash-base', type: 'ui-base', name: 'EMS', path: '/dashboard', appIcon: '', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'],
      showPathInSidebar: false, headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default', showReconnectNotification: true,
      notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false,
    },
    {
      id: 'dash-theme', type: 'ui-theme', name: 'EMS theme',
      colors: { surface: '#1f4e3d', primary: '#2e8b57', bgPage: '#f4f7f5', groupBg: '#ffffff', groupOutline: '#cfd8d3' },
      sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '6px', widgetGap: '12px' },
    },
    page('overview', 'Overview', 'view-dashboard', 1),
    page('meter', 'Meter', 'meter-electric', 2),
    page('reports', 'Reports', 'file-table', 3),
    page('events', 'Events', 'alert', 4),
    group('dash-grp-ov-energy', 'Energy', 'overview', 4, 1),
    group('dash-grp-ov-meters', 'Meters', 'overview', 8, 2),
    group('dash-grp-ov-alarms', 'Active alarms', 'overview', 12, 3),
    group('dash-grp-mt-pick', 'Meter and range', 'meter', 4, 1),
    group('dash-grp-mt-chart', 'Consumption', 'meter', 8, 2),
    group('dash-grp-mt-live', 'Live values', 'meter', 4, 3),
    group('dash-grp-rp', 'Consumption and cost by tariff', 'reports', 12, 1),
    group('dash-grp-ev', 'Event log (last 7 days)', 'events', 12, 1),
  ];
}

function overview(): FlowNode[] {
  const shape = `${overviewFromLatest}
${liveValues}
${localDate}
${TZ}
const latest = Array.isArray(msg.payload) ? msg.payload : [];
const o = overviewFromLatest(latest, Date.now(), tz);
const known = flow.get('dash_meters') || [];
const changed = JSON.stringify(known) !== JSON.stringify(o.ids);
flow.set('dash_meters', o.ids);
const first = localDate(Date.now(), tz).slice(0, 8) + '01';
const selected = flow.get('dash_meter') || o.ids[0];
node.status({ fill: o.alarms.length ? 'yellow' : 'green', shape: 'dot', text: o.ids.length + ' meters, ' + o.alarms.length + ' alarms' });
return [
  { payload: o.meters },
  { payload: String(o.alarms.length) },
  { payload: o.alarms },
  o.ids.map((id) => ({ topic: id, query: { meter: id, date1: first, step: 'day' } })),
  changed ? { options: o.ids.map((id) => ({ value: id, label: id })), payload: selected } : null,
  selected ? { topic: selected, payload: liveValues(latest, selected) } : null,
  changed ? { topic: 'dash-meters' } : null,
];`;
  const sum = `${localDate}
${monthSummary}
${overviewTotals}
${TZ}
const summaries = context.get('summaries') || {};
const ids = flow.get('dash_meters') || [];
const one = monthSummary(msg.payload, localDate(Date.now(), tz));
if (!one) {
  node.status({ fill: 'red', shape: 'ring', text: (msg.payload && msg.payload.error) || 'no report' });
  return null;
}
summaries[one.meter] = one;
for (const k of Object.keys(summaries)) if (!ids.includes(k)) delete summaries[k];
context.set('summaries', summaries);
const t = overviewTotals(Object.values(summaries));
node.status({ fill: 'green', shape: 'dot', text: t.today + ' today' });
return [{ payload: t.today }, { payload: t.todayCost }, { payload: t.month }, { payload: t.monthCost }];`;
  const g = 'dash-grp-ov-energy';
  return [
    inject('dash-ov-tick', 'every 10 s', 10, 2, ['dash-ov-latest'], at(0, 1)),
    {
      id: 'dash-ov-latest', type: 'ems-store-query', z: TAB, name: 'newest values', store: STORE, mode: 'latest', meter: '', obis: '', range: '', window: '', fn: '', limit: '', interval: '',
      ...at(1, 1), wires: [['dash-ov-shape']],
    },
    fn('dash-ov-shape', 'overview', shape, [['dash-ov-meters'], ['dash-ov-alarm-count'], ['dash-ov-alarms'], ['dash-ov-report'], ['dash-mt-meter', 'dash-rp-meter'], ['dash-mt-live'], ['dash-mt-req', 'dash-rp-req']], at(2, 1)),
    api('dash-ov-report', 'month report per meter', 'reports.tariffs', ['dash-ov-cons'], at(3, 3)),
    fn('dash-ov-cons', 'today / this month', sum, [['dash-ov-today'], ['dash-ov-today-cost'], ['dash-ov-month'], ['dash-ov-month-cost']], at(4, 3)),
    text('dash-ov-today', g, 'Consumption today', 1, at(5, 3)),
    text('dash-ov-today-cost', g, 'Cost today', 2, at(5, 4)),
    text('dash-ov-month', g, 'Consumption this month', 3, at(5, 5)),
    text('dash-ov-month-cost', g, 'Cost this month', 4, at(5, 6)),
    text('dash-ov-alarm-count', g, 'Active alarms', 5, at(5, 1)),
    table('dash-ov-meters', 'dash-grp-ov-meters', 'Meters', 1, at(5, 0)),
    table('dash-ov-alarms', 'dash-grp-ov-alarms', 'Active alarms', 1, at(5, 2)),
  ];
}

function meterPage(): FlowNode[] {
  const req = `${readingsRequest}
if (msg.topic === 'dash-range') flow.set('dash_range', msg.payload);
const meter = flow.get('dash_meter') || (flow.get('dash_meters') || [])[0];
if (!meter) return null;
return readingsRequest(meter, flow.get('dash_range') || '24h');`;
  const points = `${chartPoints}
const r = chartPoints(msg.payload);
if (r.error) {
  node.status({ fill: 'red', shape: 'ring', text: r.error });
  return [null, { payload: r.error }];
}
const total = r.points.reduce((s, p) => s + p.value, 0);
node.status({ fill: 'green', shape: 'dot', text: r.points.length + ' points' });
return [{ topic: msg.topic, payload: r.points, action: 'replace' }, { payload: msg.topic + ': ' + total.toFixed(2) + ' kWh' }];`;
  return [
    dropdown('dash-mt-meter', 'dash-grp-mt-pick', 'Meter', 1, 'dash-meter', [], ['dash-meter-pick'], at(0, 7)),
    fn('dash-meter-pick', 'meter picked', `flow.set('dash_meter', msg.payload);
return [{ payload: msg.payload }, msg];`, [['dash-mt-meter', 'dash-rp-meter'], ['dash-mt-req', 'dash-rp-req']], at(0, 10)),
    dropdown('dash-mt-range', 'dash-grp-mt-pick', 'Range', 2, 'dash-range', RANGES.map((r) => ({ value: r.value, label: r.label })), ['dash-mt-req'], at(0, 8)),
    inject('dash-mt-tick', 'every 60 s', 60, 4, ['dash-mt-req'], at(0, 9)),
    { id: 'dash-mt-range-init', type: 'inject', z: TAB, name: 'show 24 h', props: [{ p: 'payload' }], repeat: '', crontab: '', once: true, onceDelay: '1', topic: '', payload: '24h', payloadType: 'str', ...at(-1, 8), wires: [['dash-mt-range']] },
    fn('dash-mt-req', 'readings request', req, [['dash-mt-readings']], at(1, 8)),
    api('dash-mt-readings', 'meter readings', 'meters.readings', ['dash-mt-points'], at(2, 8)),
    fn('dash-mt-points', 'chart points', points, [['dash-mt-chart'], ['dash-mt-total']], at(3, 8)),
    {
      id: 'dash-mt-chart', type: 'ui-chart', z: TAB, group: 'dash-grp-mt-chart', name: '', label: 'Energy per window (kWh)', order: 1, chartType: 'bar',
      category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: 'time', xAxisPropertyType: 'property', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto',
      xmin: '', xmax: '', yAxisLabel: 'kWh', yAxisProperty: 'value', yAxisPropertyType: 'property', ymin: '0', ymax: '', bins: 10, action: 'replace', stackSeries: false,
      pointShape: 'circle', pointRadius: 4, showLegend: true, removeOlder: 0, removeOlderUnit: '86400', removeOlderPoints: '',
      colors: ['#2e8b57', '#0095FF', '#FF7F0E', '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5', '#2CA02C'],
      textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 8, height: 6, className: 'ems-dash-mt-chart', interpolation: 'linear',
      ...at(4, 7), wires: [[]],
    },
    text('dash-mt-total', 'dash-grp-mt-pick', 'Total in range', 3, at(4, 9)),
    table('dash-mt-live', 'dash-grp-mt-live', 'Live values', 1, at(4, 6)),
  ];
}

function reportsPage(): FlowNode[] {
  const req = `${localDate}
${TZ}
if (msg.topic === 'dash-step') flow.set('dash_step', msg.payload);
const meter = flow.get('dash_meter') || (flow.get('dash_meters') || [])[0];
if (!meter) return null;
const step = flow.get('dash_step') || 'day';
const date2 = localDate(Date.now(), tz);
const date1 = localDate(Date.now() - (step === 'month' ? 365 : 30) * 86400000, tz).slice(0, step === 'month' ? 8 : 10) + (step === 'month' ? '01' : '');
return { topic: meter, query: { meter, date1, date2, step } };`;
  const rows = `${reportRows}
if (msg.payload && msg.payload.error) {
  node.status({ fill: 'red', shape: 'ring', text: msg.payload.error });
  return [{ payload: [] }, { payload: msg.payload.error }];
}
const rows = reportRows(msg.payload);
node.status({ fill: 'green', shape: 'dot', text: rows.length + ' rows' });
return [{ payload: rows }, { payload: msg.topic + ': ' + rows.length + ' rows' }];`;
  return [
    dropdown('dash-rp-meter', 'dash-grp-rp', 'Meter', 1, 'dash-meter', [], ['dash-meter-pick'], at(0, 11)),
    dropdown('dash-rp-step', 'dash-grp-rp', 'Step', 2, 'dash-step', [{ value: 'day', label: 'Daily, last 30 days' }, { value: 'month', label: 'Monthly, last 12 months' }], ['dash-rp-req'], at(0, 12)),
    inject('dash-rp-tick', 'every 5 min', 300, 5, ['dash-rp-req'], at(0, 13)),
    { id: 'dash-rp-step-init', type: 'inject', z: TAB, name: 'daily', props: [{ p: 'payload' }], repeat: '', crontab: '', once: true, onceDelay: '1', topic: '', payload: 'day', payloadType: 'str', ...at(-1, 12), wires: [['dash-rp-step']] },
    fn('dash-rp-req', 'report request', req, [['dash-rp-report']], at(1, 12)),
    api('dash-rp-report', 'tariff report', 'reports.tariffs', ['dash-rp-rows'], at(2, 12)),
    fn('dash-rp-rows', 'report rows', rows, [['dash-rp-table'], ['dash-rp-status']], at(3, 12)),
    table('dash-rp-table', 'dash-grp-rp', 'Consumption and cost by tariff', 4, at(4, 12)),
    text('dash-rp-status', 'dash-grp-rp', 'Report', 3, at(4, 13)),
  ];
}

function eventsPage(): FlowNode[] {
  const req = `return { query: { date1: new Date(Date.now() - 7 * 86400000).toISOString(), date2: new Date(Date.now() + 60000).toISOString(), limit: '200' } };`;
  const rows = `${eventRows}
${TZ}
if (msg.payload && msg.payload.error) {
  node.status({ fill: 'red', shape: 'ring', text: msg.payload.error });
  return [{ payload: [] }, { payload: msg.payload.error }];
}
const rows = eventRows(msg.payload, tz);
node.status({ fill: 'green', shape: 'dot', text: rows.length + ' events' });
return [{ payload: rows }, { payload: String(rows.length) }];`;
  return [
    inject('dash-ev-tick', 'every 10 s', 10, 3, ['dash-ev-req'], at(0, 15)),
    fn('dash-ev-req', 'last 7 days', req, [['dash-ev-list']], at(1, 15)),
    api('dash-ev-list', 'event log', 'events.list', ['dash-ev-rows'], at(2, 15)),
    fn('dash-ev-rows', 'event rows', rows, [['dash-ev-table'], ['dash-ev-count']], at(3, 15)),
    table('dash-ev-table', 'dash-grp-ev', 'Events', 2, at(4, 15)),
    text('dash-ev-count', 'dash-grp-ev', 'Events', 1, at(4, 16)),
  ];
}

/** Every node of the dashboard: the tab, config nodes and flows; ids start with "dash-" (the tab: "ems-dash-tab"). */
export function dashboardFlow(): FlowNode[] {
  const tab: FlowNode = {
    id: TAB, type: 'tab', label: 'EMS Dashboard', disabled: false,
    info: 'The EMS dashboard (Dashboard 2.0) at /dashboard: overview, meter, reports and events pages.\n\nFunction nodes run the shaping functions of lib/ems/dashboard.ts; regenerate this tab from there.',
  };
  return [tab, ...configNodes(), ...overview(), ...meterPage(), ...reportsPage(), ...eventsPage()];
}
