/** The data dictionary's data endpoints (section "Data"): dashboard, graphics, data table, vector diagram. */
import { dashboard, graphics, meterView, parseDataQuery, parseStep, PARAM_TYPES, table, vector, DEFAULT_LIMIT, MAX_LIMIT, type DataQuery, type MeterView } from '../data';
import { checkPeriod, FIRST_YEAR, LAST_YEAR, limitsText } from '../limits';
import { checkMeterVisible } from './helpers';
import type { ApiContext, Operation, ParamDoc } from './types';

const COMMON: ParamDoc[] = [
  { name: 'meter', description: 'Meter id', required: true, schema: { type: 'string' } },
  { name: 'date1', description: 'Start: a local date (2026-11-01), an ISO time (local in the EMS time zone without an offset) or epoch ms; default today 00:00', schema: { type: 'string' } },
  { name: 'date2', description: 'End, exclusive; a bare local date includes that day; default the end of today', schema: { type: 'string' } },
  { name: 'type', description: `Parameter family: ${PARAM_TYPES.join(', ')} (default all)`, schema: { type: 'string', enum: [...PARAM_TYPES] } },
  { name: 'limit', description: `Most rows (default ${DEFAULT_LIMIT})`, schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT } },
];
const paramNames = (docs: ParamDoc[]): string[] => docs.map((d) => d.name);

const ROW = {
  type: 'object',
  properties: {
    param_name: { type: 'string', description: 'OBIS code, e.g. 1-0:32.7.0' },
    date: { type: 'string', description: 'ISO time with the zone offset' },
    value: { type: 'string', description: 'Decimal text, full precision' },
    unit: { type: 'string' },
  },
};
const LOCATION = { type: 'array', items: { type: 'string' }, description: "The meter's folder path, root first" };

async function prepare(ctx: ApiContext, docs: ParamDoc[]): Promise<{ q: DataQuery; view: MeterView }> {
  const q = parseDataQuery(ctx.request.query, ctx.now(), ctx.timeZone, paramNames(docs));
  checkMeterVisible(ctx, q.meter);
  return { q, view: await meterView(ctx.services.registry, ctx.store, q.meter) };
}

const GRAPHICS_PARAMS: ParamDoc[] = [
  ...COMMON,
  { name: 'step', description: 'Aggregate per window for charts: 15m, 1h, 1d (calendar-aligned in the EMS time zone); default raw readings', schema: { type: 'string' } },
  { name: 'fn', description: 'Window function with step: last, first, mean, min, max, sum, delta (default last for cumulative registers, mean otherwise)', schema: { type: 'string' } },
];
const VECTOR_PARAMS = COMMON.filter((p) => p.name !== 'type');

export const DATA_OPERATIONS: Operation[] = [
  {
    name: 'data.dashboard', method: 'GET', path: '/api/data/dashboard', access: 'viewer', tag: 'Data',
    summary: "A meter's newest values and today's and this month's consumption",
    description: 'The newest value of each parameter in date1..date2 (as of now or the range end), and per cumulative register the consumption since local midnight and since the first of the month.',
    query: COMMON,
    response: {
      type: 'object',
      properties: {
        location: LOCATION, as_of: { type: 'string' }, rows: { type: 'array', items: ROW },
        consumption: { type: 'array', items: { type: 'object', properties: { param_name: { type: 'string' }, unit: { type: 'string' }, today: { type: 'string' }, month: { type: 'string' } } } },
      },
    },
    async run(ctx) {
      const { q, view } = await prepare(ctx, COMMON);
      return dashboard(ctx.store, view, q, ctx.now());
    },
  },
  {
    name: 'data.graphics', method: 'GET', path: '/api/data/graphics', access: 'viewer', tag: 'Data',
    summary: 'Time series per parameter for charts, raw or per window',
    description: `Raw readings are cut at limit rows (truncated: true). ${limitsText('data.graphics', `raw readings at most limit (${MAX_LIMIT}) rows`)}`,
    query: GRAPHICS_PARAMS,
    response: { type: 'object', properties: { location: LOCATION, rows: { type: 'array', items: ROW }, truncated: { type: 'boolean' } } },
    async run(ctx) {
      const { q, view } = await prepare(ctx, GRAPHICS_PARAMS);
      const step = parseStep(ctx.request.query.step, ctx.request.query.fn, q.from, q.to, q.timeZone);
      if (step) checkPeriod('data.graphics', 'step', { from: { name: 'date1', value: ctx.request.query.date1, time: q.from }, to: { name: 'date2', value: ctx.request.query.date2, time: q.to } });
      return graphics(ctx.store, view, q, step);
    },
  },
  {
    name: 'data.table', method: 'GET', path: '/api/data/table', access: 'viewer', tag: 'Data',
    summary: 'Raw readings, newest first',
    description: `At most limit (${MAX_LIMIT}) rows; dates in the years ${FIRST_YEAR}..${LAST_YEAR}.`,
    query: COMMON,
    response: { type: 'object', properties: { location: LOCATION, rows: { type: 'array', items: ROW }, truncated: { type: 'boolean' } } },
    async run(ctx) {
      const { q, view } = await prepare(ctx, COMMON);
      return table(ctx.store, view, q);
    },
  },
  {
    name: 'data.vector', method: 'GET', path: '/api/data/vector', access: 'viewer', tag: 'Data',
    summary: 'Per-phase voltage and current phasors (magnitude and angle) for a vector diagram',
    description: 'Newest values in date1..date2. Voltage angles from the meter (1-0:81.7.10, 81.7.20) or nominal 0/-120/120; current angle from the meter (81.7.40/51/62) or the voltage angle minus acos(|PF|), leading when the phase reactive power is negative.',
    query: VECTOR_PARAMS,
    response: {
      type: 'object',
      properties: {
        location: LOCATION, as_of: { type: 'string' },
        rows: { type: 'array', items: { type: 'object', properties: { ...ROW.properties, param_name: { type: 'string', description: 'U1, U2, U3, I1, I2, I3' }, obis: { type: 'string' }, angle: { type: 'string', nullable: true, description: 'Degrees' }, angle_source: { type: 'string', nullable: true } } } },
      },
    },
    async run(ctx) {
      const { q, view } = await prepare(ctx, VECTOR_PARAMS);
      return vector(ctx.store, view, q, ctx.now());
    },
  },
];
