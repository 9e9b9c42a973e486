/**
 * Sites (section "Sites"): energy categories with their kgce/kgCO2e factor periods (admins write, viewers
 * read), and the site report of a folder (a space) for the caller's folders, as JSON, CSV or XLSX.
 */
import { parseDateRange } from '../data';
import { ApiError } from '../envelope';
import { checkPeriod, limitsText, MAX_SITE_CELLS, MAX_SITE_METERS } from '../limits';
import type { Registry } from '../registry';
import { REPORT_STEPS, stepBoundaries, type ReportStep } from '../reports';
import { siteReport, type PricedTariff, type SiteFolder } from '../site-report';
import { siteReportCsv, siteReportXlsx } from '../site-report-export';
import { BUILT_IN_CATEGORIES, type EnergyCategory } from '../energy-categories';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
import { DEFAULT_PAGE, listPage, PAGE_KEYS, pageParams } from './paging';
import { ApiReply, type ApiContext, type Operation, type ParamDoc } from './types';

const TAG = 'Sites';

const FACTOR = { type: 'object', properties: { from: { type: 'string', format: 'date', description: 'local date the factors apply from' }, kgce: { type: 'string' }, kgco2e: { type: 'string' } } };
const CATEGORY = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, unit: { type: 'string', description: 'kWh, m3, GJ, t, ... (the reading store\'s units)' },
    media: { type: 'array', items: { type: 'integer' }, description: 'OBIS media (group A) a meter without energy_category is derived into this category by' },
    registers: { type: 'array', items: { type: 'string' }, description: 'registers counted, "A:C.D" (1:1.8 = active energy import, any channel and tariff)' },
    tariff_type: { type: 'string', nullable: true, description: 'electricity, water, gas or heat: the cost-center tariff that prices it' },
    factors: { type: 'array', items: FACTOR, description: 'kgce and kgCO2e per unit, each period valid from its local date to the next one\'s (the first also before it), oldest first' },
    built_in: { type: 'boolean' },
  },
};

const REPORT_PARAMS: ParamDoc[] = [
  { name: 'from', description: 'Start: a local date (2026-03-23), an ISO time or epoch ms; default today', schema: { type: 'string' } },
  { name: 'to', description: 'End, exclusive; a bare local date includes that day; default the end of today', schema: { type: 'string' } },
  { name: 'step', description: 'hour, day (default) or month, calendar-aligned in the folder\'s time zone', schema: { type: 'string', enum: [...REPORT_STEPS] } },
  { name: 'base_from', description: 'Base period start (with base_to): compared with the reporting period', schema: { type: 'string' } },
  { name: 'base_to', description: 'Base period end, exclusive (a bare date includes that day)', schema: { type: 'string' } },
  { name: 'format', description: 'json (default), csv or xlsx (one table, a line per total, step, meter, remainder and child space)', schema: { type: 'string', enum: ['json', 'csv', 'xlsx'] } },
];

const by = (ctx: ApiContext): string => callerOf(ctx).user.login;

/** The folder path (root first). */
function pathOf(registry: Registry, id: string): string[] {
  const names: string[] = [];
  for (let f: string | null = id, guard = 0; f !== null && guard < 1000; guard++) {
    const folder = registry.folder(f);
    names.unshift(folder.name);
    f = folder.parent_id;
  }
  return names;
}

/** The tariff of a meter's accounting object, else of the cost center the meter is in for the category's tariff_type. */
function tariffFinder(ctx: ApiContext): (meter: string, c: EnergyCategory) => PricedTariff | null {
  const centers = ctx.services.costCenters.list();
  return (meter, c) => {
    const own = ctx.services.objects.tariffForMeter(meter);
    if (own) return own;
    if (!c.tariff_type) return null;
    for (const cc of centers) {
      const entry = cc.meters.find((m) => m.id === meter && m.energyType === c.tariff_type);
      const tid = entry ? cc.tariffs[c.tariff_type] : undefined;
      if (tid) return ctx.services.tariffs.get(tid);
    }
    return null;
  };
}

function range(query: Record<string, unknown>, a: string, b: string, now: number, zone: string): { from: number; to: number } {
  try {
    return parseDateRange(query[a], query[b], now, zone);
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.status, err.message.replace(/\bdate1\b/g, a).replace(/\bdate2\b/g, b));
    throw err;
  }
}

export const SITE_OPERATIONS: Operation[] = [
  {
    name: 'energy-categories.list', method: 'GET', path: '/api/energy-categories', access: 'viewer', tag: TAG,
    summary: 'The energy categories with their units and kgce/kgCO2e factor periods, by id, a page at a time',
    query: pageParams('/api/energy-categories', DEFAULT_PAGE, 'categories'),
    response: { type: 'array', items: CATEGORY },
    run(ctx) {
      onlyParams(ctx.request.query, PAGE_KEYS);
      // The built-in categories first, in their order, then the others by id (the service's order).
      const builtIn = (id: string) => { const i = BUILT_IN_CATEGORIES.findIndex((b) => b.id === id); return String(i < 0 ? BUILT_IN_CATEGORIES.length : i).padStart(4, '0'); };
      return listPage(ctx.request.query, 'energy-categories', ctx.services.energyCategories.list(), (c) => `${builtIn(c.id)}\u0000${c.id}`);
    },
  },
  {
    name: 'energy-categories.get', method: 'GET', path: '/api/energy-categories/:id', access: 'viewer', tag: TAG,
    summary: 'One energy category', response: CATEGORY,
    run: (ctx) => ctx.services.energyCategories.get(pathParam(ctx, 'id')),
  },
  {
    name: 'energy-categories.create', method: 'POST', path: '/api/energy-categories', access: 'admin', tag: TAG,
    summary: 'Add a user-defined energy category (answers 201 with it)',
    description: 'id, name, unit and factors are required; a medium derives into one category only.',
    body: { ...CATEGORY, required: ['id', 'name', 'unit', 'factors'] }, response: CATEGORY,
    run: (ctx) => new ApiReply({ data: ctx.services.energyCategories.create(bodyObject(ctx), by(ctx)), status: 201 }),
  },
  {
    name: 'energy-categories.update', method: 'PUT', path: '/api/energy-categories/:id', access: 'admin', tag: TAG,
    summary: 'Change a category\'s name, tariff type or factor periods (and unit, media, registers of a user-defined one)',
    description: 'factors replaces the whole list: to change a factor from 1 July, add a period { from: "YYYY-07-01", ... } after the current one.',
    body: CATEGORY, response: CATEGORY,
    run: (ctx) => ctx.services.energyCategories.update(pathParam(ctx, 'id'), bodyObject(ctx), by(ctx)),
  },
  {
    name: 'energy-categories.delete', method: 'DELETE', path: '/api/energy-categories/:id', access: 'admin', tag: TAG,
    summary: 'Delete a user-defined category no meter names (built-ins and categories in use: 409)',
    response: { type: 'string' },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      ctx.services.energyCategories.delete(id, (c) => ctx.services.registry.meters().filter((m) => m.definition.energy_category === c).map((m) => m._id), by(ctx));
      return `deleted energy category "${id}"`;
    },
  },
  {
    name: 'folders.report', method: 'GET', path: '/api/folders/:id/report', access: 'viewer', tag: TAG,
    summary: 'Site report of a folder and everything below it: per energy category consumption, kgce, kgCO2e, per m2, cost, series, sub-meters, base period',
    description: 'Consumption is the exact register difference at the step edges (fn=delta), in the folder\'s time zone (its own, else the nearest folder above with one, else the EMS zone). '
      + 'A meter counts in the totals unless its parent_meter is a counted meter of the same category in the folder (no energy is counted twice); virtual meters are listed, never counted. '
      + 'submeters: each master meter with its sub-meters and the unmetered remainder (master minus sub-meters; negative is kept and flagged). '
      + 'kgce and kgCO2e use the category\'s factor periods, a step spanning a change date split at it. Cost: the energy charges of the tariff bound through the meter\'s accounting object, else its cost center. '
      + 'peak = the largest step, average = total / steps, load_factor = average / peak. spaces: the child folders\' totals. top: the disjoint parts (meters without sub-meters, and remainders), largest first. '
      + `At most ${MAX_SITE_METERS} meters and ${MAX_SITE_CELLS.toLocaleString('en')} meters x steps per report. ${limitsText('sites.report')}`,
    query: REPORT_PARAMS,
    produces: ['text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    response: { type: 'object', description: 'folder, location, step, from, to, base, totals, categories, submeters, spaces, meters, notes' },
    run: (ctx) => {
      onlyParams(ctx.request.query, REPORT_PARAMS.map((p) => p.name));
      return folderReport(ctx, pathParam(ctx, 'id'));
    },
  },
  {
    name: 'reports.site', method: 'GET', path: '/api/reports/site', access: 'viewer', tag: TAG,
    summary: 'The site report of `folder`, or of the caller\'s one open folder (the data dictionary\'s location form)',
    description: 'The same answer as GET /api/folders/:id/report. Without folder: the caller\'s open folder when they have exactly one, else 400 naming folder.',
    query: [{ name: 'folder', description: 'Folder id (default: the caller\'s only open folder)', schema: { type: 'string' } }, ...REPORT_PARAMS],
    produces: ['text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    response: { type: 'object', description: 'as GET /api/folders/:id/report' },
    run(ctx) {
      const { folder, ...rest } = ctx.request.query;
      onlyParams(rest, REPORT_PARAMS.map((p) => p.name));
      const open = callerOf(ctx).user.open_folders;
      if (folder === undefined && open.length !== 1) throw new ApiError(400, `folder is required (a folder id): you have ${open.length === 0 ? 'every folder' : `${open.length} folders`} open`);
      const id = folder ?? open[0];
      if (typeof id !== 'string' || id.trim() === '') throw new ApiError(400, `folder ${JSON.stringify(id)} must be a folder id`);
      return folderReport({ ...ctx, request: { ...ctx.request, query: rest } }, id);
    },
  },
];

/** The site report of folder `id` for the caller (404 outside their folders), in the asked format. */
async function folderReport(ctx: ApiContext, id: string): Promise<unknown> {
  const query = ctx.request.query;
  const caller = callerOf(ctx);
  const registry = ctx.services.registry;
  const folder = registry.folder(id, caller.scope) as SiteFolder; // 404 outside the caller's folders
  const step = query.step ?? 'day';
  if (!(REPORT_STEPS as readonly unknown[]).includes(step)) throw new ApiError(400, `step ${JSON.stringify(step)} is not a report step (use ${REPORT_STEPS.join(', ')})`);
  const format = query.format ?? 'json';
  if (!['json', 'csv', 'xlsx'].includes(format as string)) throw new ApiError(400, `format ${JSON.stringify(format)} is not a report format (use json, csv or xlsx)`);
  const zone = registry.timeZoneOf(id, ctx.timeZone);
  const { from, to } = range(query, 'from', 'to', ctx.now(), zone);
  checkPeriod('sites.report', step as ReportStep, { from: { name: 'from', value: query.from, time: from }, to: { name: 'to', value: query.to, time: to } });
  let base: { from: number; to: number } | null = null;
  if ((query.base_from === undefined) !== (query.base_to === undefined)) throw new ApiError(400, `base_from ${JSON.stringify(query.base_from ?? null)} and base_to ${JSON.stringify(query.base_to ?? null)} go together (give both or neither)`);
  if (query.base_from !== undefined) {
    base = range(query, 'base_from', 'base_to', ctx.now(), zone);
    checkPeriod('sites.report', 'day', { from: { name: 'base_from', value: query.base_from, time: base.from }, to: { name: 'base_to', value: query.base_to, time: base.to } });
  }
  const inside = registry.scopeOf([id])!;
  const folders = [...inside].map((f) => registry.folder(f) as SiteFolder);
  const meters = registry.meters(caller.scope).filter((m) => inside.has(m.folder_id)).map((m) => ({
    id: m._id, name: m.definition.name, folder_id: m.folder_id, parent_meter: m.definition.parent_meter ?? '', energy_category: m.definition.energy_category ?? '', protocol: String(m.definition.protocol),
  }));
  if (meters.length > MAX_SITE_METERS) throw new ApiError(400, `folder "${folder.name}" holds ${meters.length} meters; a site report covers at most ${MAX_SITE_METERS}: ask for a folder further down`);
  const steps = stepBoundaries(from, to, step as ReportStep, zone).length - 1;
  if (meters.length * steps > MAX_SITE_CELLS) {
    throw new ApiError(400, `step ${JSON.stringify(step)} gives ${steps} steps for ${meters.length} meters (${meters.length * steps} values); a site report holds at most ${MAX_SITE_CELLS}: use a longer step or a shorter period`);
  }
  const report = await siteReport(ctx.store, {
    folder: { ...folder, time_zone: zone }, folders, location: pathOf(registry, id), meters, categories: ctx.services.energyCategories.list(),
    from, to, step: step as ReportStep, timeZone: zone, base, tariffFor: tariffFinder(ctx),
  });
  if (format === 'json') return report;
  const name = `site-${id.slice(0, 36)}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}-${step}`;
  if (format === 'csv') return new ApiReply({ raw: { contentType: 'text/csv; charset=utf-8', body: siteReportCsv(report), filename: `${name}.csv` } });
  return new ApiReply({ raw: { contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', body: await siteReportXlsx(report), filename: `${name}.xlsx` } });
}
