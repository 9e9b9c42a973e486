/** Reports by four tariffs (section "Reports"): consumption and cost per register T1..T4 per step, JSON or CSV. */
import { meterView, parseDateRange } from '../data';
import { ApiError } from '../envelope';
import { checkPeriod, limitsText } from '../limits';
import { COST_KEYS, REPORT_STEPS, reportCsv, TARIFF_KEYS, tariffReport, type ReportStep } from '../reports';
import type { StoredTariff } from '../tariffs';
import { checkMeterVisible, onlyParams } from './helpers';
import { ApiReply, type ApiContext, type Operation, type ParamDoc } from './types';

const PARAMS: ParamDoc[] = [
  { name: 'meter', description: 'Meter id', required: true, schema: { type: 'string' } },
  { name: 'date1', description: 'Start: a local date (2026-11-01), an ISO time or epoch ms; default today', schema: { type: 'string' } },
  { name: 'date2', description: 'End, exclusive; a bare local date includes that day; default the end of today', schema: { type: 'string' } },
  { name: 'step', description: 'hour, day or month, calendar-aligned in the EMS time zone (default day)', schema: { type: 'string', enum: [...REPORT_STEPS] } },
  { name: 'format', description: 'json (default) or csv (text/csv with a header row)', schema: { type: 'string', enum: ['json', 'csv'] } },
  { name: 'tariff', description: "Tariff id to price with (default: the tariff of the meter's accounting object, if any)", schema: { type: 'string' } },
];

/** ?tariff=<id> (404 if unknown), else the tariff of the meter's accounting object, else none. */
function tariffFor(ctx: ApiContext, meter: string): StoredTariff | null {
  const id = ctx.request.query.tariff;
  if (id !== undefined && id !== '') {
    if (typeof id !== 'string') throw new ApiError(400, `tariff ${JSON.stringify(id)} is not a tariff id`);
    return ctx.services.tariffs.get(id);
  }
  return ctx.services.objects.tariffForMeter(meter);
}

const AMOUNTS = { type: 'object', properties: Object.fromEntries([...TARIFF_KEYS, 'total', ...COST_KEYS].map((k) => [k, { type: 'string' }])) };

export const REPORT_OPERATIONS: Operation[] = [
  {
    name: 'reports.tariffs', method: 'GET', path: '/api/reports/tariffs', access: 'viewer', tag: 'Reports',
    summary: 'Consumption (and cost) per tariff register T1..T4 per hour, day or month',
    description: 'Deltas of the cumulative registers 1-0:1.8.1..1.8.4 between step boundaries (the newest reading at or before each boundary); '
      + 'without tariff registers first_tariff carries 1-0:1.8.0, without any active energy register the meter\'s main register (heat energy 6-B:1.0.0, '
      + 'gas volume 7-B:3.0.0, water volume 8-/9-B:1.0.0; `unit` names its unit). data_from is where the data begins (steps before it have no readings). '
      + `Costs are the energy charges of the bound (or given) tariff, as decimal strings. ${limitsText('reports.tariffs')}`,
    query: PARAMS,
    produces: ['text/csv'],
    response: {
      type: 'object',
      properties: {
        meter: { type: 'string' }, location: { type: 'array', items: { type: 'string' } }, step: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
        unit: { type: 'string' }, data_from: { type: 'string', nullable: true, description: 'from, or the first reading in the period when none precedes it; null without readings' }, registers: { type: 'object' }, tariff: { type: 'object', nullable: true },
        rows: { type: 'array', items: { type: 'object', description: '*_cost only with a tariff', properties: { date: { type: 'string' }, date_to: { type: 'string' }, ...AMOUNTS.properties } } },
        totals: AMOUNTS, notes: { type: 'array', items: { type: 'string' } },
      },
    },
    async run(ctx) {
      const query = ctx.request.query;
      onlyParams(query, PARAMS.map((p) => p.name));
      const meter = query.meter;
      if (typeof meter !== 'string' || meter.trim() === '') throw new ApiError(400, `meter ${JSON.stringify(meter ?? '')} is required (a meter id)`);
      const step = query.step ?? 'day';
      if (!(REPORT_STEPS as readonly unknown[]).includes(step)) throw new ApiError(400, `step ${JSON.stringify(step)} is not a report step (use ${REPORT_STEPS.join(', ')})`);
      const format = query.format ?? 'json';
      if (format !== 'json' && format !== 'csv') throw new ApiError(400, `format ${JSON.stringify(format)} is not a report format (use json or csv)`);
      const { from, to } = parseDateRange(query.date1, query.date2, ctx.now(), ctx.timeZone);
      checkPeriod('reports.tariffs', step as ReportStep, { from: { name: 'date1', value: query.date1, time: from }, to: { name: 'date2', value: query.date2, time: to } });
      checkMeterVisible(ctx, meter);
      const view = await meterView(ctx.services.registry, ctx.store, meter);
      const report = await tariffReport(ctx.store, { meter, location: view.location, from, to, step: step as ReportStep, timeZone: ctx.timeZone, tariff: tariffFor(ctx, meter) });
      if (format === 'json') return report;
      const day = (iso: string): string => iso.slice(0, 10);
      return new ApiReply({ raw: { contentType: 'text/csv; charset=utf-8', body: reportCsv(report), filename: `tariffs-${meter}-${day(report.from)}-${day(report.to)}-${step}.csv` } });
    },
  },
];
