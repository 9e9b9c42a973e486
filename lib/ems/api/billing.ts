/** Tariffs, cost centers, draft bills, issued bills and credit notes (section "Billing"). */
import { BillIssueError, creditNote, type Bill } from '../../billing';
import { billFormat, billPeriod, billSummary, billVisible, costCenterDraft, meterDraft, renderBill, type DraftInput } from '../bills';
import { ApiError } from '../envelope';
import { limitsText, type LimitedOperation } from '../limits';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
import { DEFAULT_PAGE, listPage, nameKey, PAGE_KEYS, pageOf, pageParams, pageReply, pageRequest } from './paging';
import { ApiReply, type ApiContext, type Operation, type ParamDoc } from './types';

const TAG = 'Billing';

const TARIFF = {
  type: 'object',
  properties: {
    _id: { type: 'string' }, name: { type: 'string' },
    tariff: { type: 'object', description: 'The tariff JSON (lib/tariff README: currency, timeZone, versions with energy, demand, fixed charges and taxes); its id and name are the stored ones' },
    created_at: { type: 'integer' }, updated_at: { type: 'integer' },
  },
};
const TARIFF_BODY = {
  type: 'object', required: ['tariff'],
  properties: {
    id: { type: 'string', description: 'Optional id (1-64 letters, digits, . _ -); default from the name' },
    name: { type: 'string', description: 'Unique name (default: tariff.name)' },
    tariff: { type: 'object', description: 'The tariff JSON, checked field by field' },
  },
};
const COST_CENTER = {
  type: 'object',
  properties: {
    _id: { type: 'string' }, name: { type: 'string' }, external_id: { type: 'string', nullable: true, description: 'ERP/SAP id' },
    tariffs: { type: 'object', description: 'Tariff id per energy category: {"electricity": "day-night", "water": "..."}' },
    meters: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, energyType: { type: 'string', enum: ['electricity', 'water', 'gas', 'heat'] } } } },
    created_at: { type: 'integer' }, updated_at: { type: 'integer' },
  },
};
const BILL = { type: 'object', description: 'A bill (lib/billing Bill): subject, from, to, tariff, currency, readings, consumption, lines, taxes, totals, quality, warnings; issued bills add number, issuedAt and hash' };

const PERIOD_DOC: ParamDoc[] = [
  { name: 'from', description: 'Period start: ISO 8601 (a date or time without offset is local in the EMS time zone) or epoch ms. With to; both absent = last month' },
  { name: 'to', description: 'Period end (exclusive), as from' },
];
const FORMAT_DOC: ParamDoc = { name: 'format', description: 'json (default), csv (one row per line and tax) or html (printable page)', schema: { type: 'string', enum: ['json', 'csv', 'html'] } };

function draftInput(ctx: ApiContext, fromIn: unknown, toIn: unknown, op: LimitedOperation): DraftInput {
  const { from, to } = billPeriod(fromIn, toIn, ctx.timeZone, ctx.now(), op);
  return { services: ctx.services, store: ctx.store, meters: callerOf(ctx).meters, from, to };
}

function answer(bill: Bill, formatIn: unknown, status = 200): ApiReply | Bill {
  const raw = renderBill(bill, billFormat(formatIn));
  if (raw) return new ApiReply({ raw, status });
  return status === 200 ? bill : new ApiReply({ data: bill, status });
}

function optionalString(field: string, v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new ApiError(400, `${field} ${JSON.stringify(v)} must be a string`);
  return v;
}

/** An issued bill the caller may see, else 404. */
function visibleBill(ctx: ApiContext, number: string): Bill {
  const bill = ctx.bills.get(number);
  if (!bill || !billVisible(bill, callerOf(ctx).meters)) throw new ApiError(404, `unknown bill "${number}"`);
  return bill;
}

function issue(ctx: ApiContext, draft: Bill): ApiReply {
  try {
    const { bill, created } = ctx.bills.issue(draft, { now: ctx.now() });
    return new ApiReply({ data: bill, status: created ? 201 : 200 });
  } catch (err) {
    if (err instanceof BillIssueError) throw new ApiError(409, err.message);
    throw err;
  }
}

const crud = {
  tariffs: [
    {
      name: 'tariffs.list', method: 'GET', path: '/api/tariffs', access: 'viewer', tag: TAG,
      summary: 'Stored tariffs, by name, a page at a time', query: pageParams('/api/tariffs', DEFAULT_PAGE, 'tariffs'), response: { type: 'array', items: TARIFF },
      run(ctx) { onlyParams(ctx.request.query, PAGE_KEYS); return listPage(ctx.request.query, 'tariffs', ctx.services.tariffs.list(), (t) => nameKey(t.name, t._id)); },
    },
    {
      name: 'tariffs.get', method: 'GET', path: '/api/tariffs/:id', access: 'viewer', tag: TAG,
      summary: 'One stored tariff', response: TARIFF,
      run(ctx) { return ctx.services.tariffs.get(pathParam(ctx, 'id')); },
    },
    {
      name: 'tariffs.create', method: 'POST', path: '/api/tariffs', access: 'admin', tag: TAG,
      summary: 'Store a tariff', description: 'The tariff JSON is checked by the tariff engine; every problem names its field. A taken id or name answers 409.',
      body: TARIFF_BODY, response: TARIFF,
      run(ctx) { return new ApiReply({ data: ctx.services.tariffs.create(bodyObject(ctx), callerOf(ctx).user.login), status: 201 }); },
    },
    {
      name: 'tariffs.update', method: 'PUT', path: '/api/tariffs/:id', access: 'admin', tag: TAG,
      summary: 'Replace a tariff\'s JSON or rename it', description: 'Draft bills use the new tariff at once; issued bills keep theirs (credit and re-issue to change one).',
      body: { ...TARIFF_BODY, required: [] }, response: TARIFF,
      run(ctx) { return ctx.services.tariffs.update(pathParam(ctx, 'id'), bodyObject(ctx), callerOf(ctx).user.login); },
    },
    {
      name: 'tariffs.delete', method: 'DELETE', path: '/api/tariffs/:id', access: 'admin', tag: TAG,
      summary: 'Delete a tariff', description: 'A tariff bound to an accounting object or a cost center answers 409 naming them.',
      response: { type: 'string' },
      run(ctx) {
        const id = pathParam(ctx, 'id');
        const { name } = ctx.services.tariffs.get(id);
        ctx.services.tariffs.delete(id, callerOf(ctx).user.login);
        return `deleted tariff "${name}"`;
      },
    },
  ] as Operation[],
  costCenters: [
    {
      name: 'costcenters.list', method: 'GET', path: '/api/cost-centers', access: 'viewer', tag: TAG,
      summary: 'Cost centers, by name, a page at a time', description: 'Only cost centers whose meters are all in the caller\'s folders.', query: pageParams('/api/cost-centers', DEFAULT_PAGE, 'cost centers'), response: { type: 'array', items: COST_CENTER },
      run(ctx) { onlyParams(ctx.request.query, PAGE_KEYS); return listPage(ctx.request.query, 'cost-centers', ctx.services.costCenters.list(callerOf(ctx).meters), (c) => nameKey(c.name, c._id)); },
    },
    {
      name: 'costcenters.get', method: 'GET', path: '/api/cost-centers/:id', access: 'viewer', tag: TAG,
      summary: 'One cost center', response: COST_CENTER,
      run(ctx) { return ctx.services.costCenters.get(pathParam(ctx, 'id'), callerOf(ctx).meters); },
    },
    {
      name: 'costcenters.create', method: 'POST', path: '/api/cost-centers', access: 'admin', tag: TAG,
      summary: 'Create a cost center',
      description: 'Every meter needs a tariff bound for its energyType (default electricity); unknown meters or tariffs answer 400.',
      body: { type: 'object', required: ['name', 'tariffs', 'meters'], properties: { id: { type: 'string' }, ...COST_CENTER.properties } }, response: COST_CENTER,
      run(ctx) {
        const { user, meters } = callerOf(ctx);
        return new ApiReply({ data: ctx.services.costCenters.create(bodyObject(ctx), meters, user.login), status: 201 });
      },
    },
    {
      name: 'costcenters.update', method: 'PUT', path: '/api/cost-centers/:id', access: 'admin', tag: TAG,
      summary: 'Change a cost center', description: 'Fields given replace the stored ones.',
      body: { type: 'object', properties: COST_CENTER.properties }, response: COST_CENTER,
      run(ctx) {
        const { user, meters } = callerOf(ctx);
        return ctx.services.costCenters.update(pathParam(ctx, 'id'), bodyObject(ctx), meters, user.login);
      },
    },
    {
      name: 'costcenters.delete', method: 'DELETE', path: '/api/cost-centers/:id', access: 'admin', tag: TAG,
      summary: 'Delete a cost center', response: { type: 'string' },
      run(ctx) {
        const { user, meters } = callerOf(ctx);
        const id = pathParam(ctx, 'id');
        const { name } = ctx.services.costCenters.get(id, meters);
        ctx.services.costCenters.delete(id, meters, user.login);
        return `deleted cost center "${name}"`;
      },
    },
  ] as Operation[],
};

const BILL_OPERATIONS: Operation[] = [
  {
    name: 'bills.meter', method: 'GET', path: '/api/meters/:id/bill', access: 'viewer', tag: TAG,
    summary: 'A draft bill of one meter',
    description: 'Prices the meter\'s stored readings (opening reading at or before from, closing at or before to) with the tariff bound '
      + 'through its accounting object (tariff_id), or the tariff given. A draft is recomputed on every request and never stored; '
      + `POST /api/bills issues it. 409 when the meter has no tariff or no readings in the period. ${limitsText('bills.meter')}`,
    query: [...PERIOD_DOC, { name: 'tariff', description: 'A stored tariff id to price with instead of the bound one' }, FORMAT_DOC],
    produces: ['text/csv', 'text/html'],
    response: BILL,
    async run(ctx) {
      const q = ctx.request.query;
      onlyParams(q, ['from', 'to', 'tariff', 'format']);
      billFormat(q.format);
      const bill = await meterDraft(draftInput(ctx, q.from, q.to, 'bills.meter'), pathParam(ctx, 'id'), optionalString('tariff', q.tariff));
      return answer(bill, q.format);
    },
  },
  {
    name: 'bills.costcenter', method: 'GET', path: '/api/cost-centers/:id/bill', access: 'viewer', tag: TAG,
    summary: 'A draft bill of a cost center',
    description: `One meter bill per assigned meter, each priced with the tariff bound for its energy category; lines name their meter, totals are the sums. ${limitsText('bills.costcenter')}`,
    query: [...PERIOD_DOC, FORMAT_DOC],
    produces: ['text/csv', 'text/html'],
    response: BILL,
    async run(ctx) {
      const q = ctx.request.query;
      onlyParams(q, ['from', 'to', 'format']);
      billFormat(q.format);
      return answer(await costCenterDraft(draftInput(ctx, q.from, q.to, 'bills.costcenter'), pathParam(ctx, 'id')), q.format);
    },
  },
  {
    name: 'bills.issue', method: 'POST', path: '/api/bills', access: 'operator', tag: TAG,
    summary: 'Issue the bill of a meter or cost center for a period',
    description: 'Computes the draft and stores it with a number (B-<year>-<sequence>), the issue time and a content hash. '
      + `Issuing the same content again answers the issued bill (200); other content for the same subject and period answers 409 until a credit note cancels the issued bill. A new bill answers 201. ${limitsText('bills.issue')}`,
    body: {
      type: 'object', required: ['from', 'to'],
      properties: {
        meter: { type: 'string' }, cost_center: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
        tariff: { type: 'string', description: 'Meter bills: a stored tariff id instead of the bound one' },
      },
    },
    response: BILL,
    async run(ctx) {
      const b = bodyObject(ctx);
      for (const k of Object.keys(b)) if (!['meter', 'cost_center', 'from', 'to', 'tariff'].includes(k)) throw new ApiError(400, `unknown field "${k}" (use meter, cost_center, from, to, tariff)`);
      const meter = optionalString('meter', b.meter);
      const center = optionalString('cost_center', b.cost_center);
      if ((meter === undefined) === (center === undefined)) throw new ApiError(400, `give one of meter or cost_center (meter is ${JSON.stringify(b.meter)}, cost_center ${JSON.stringify(b.cost_center)})`);
      if (b.from === undefined || b.to === undefined) throw new ApiError(400, `from and to are required to issue a bill (from is ${JSON.stringify(b.from)}, to ${JSON.stringify(b.to)})`);
      const x = draftInput(ctx, b.from, b.to, 'bills.issue');
      const draft = meter !== undefined ? await meterDraft(x, meter, optionalString('tariff', b.tariff)) : await costCenterDraft(x, center!);
      return issue(ctx, draft);
    },
  },
  {
    name: 'bills.list', method: 'GET', path: '/api/bills', access: 'viewer', tag: TAG,
    summary: 'Issued bills and credit notes (summaries, oldest first), a page at a time',
    query: [
      ...pageParams('/api/bills', DEFAULT_PAGE, 'bills'),
      { name: 'meter', description: 'Only bills of this meter' },
      { name: 'cost_center', description: 'Only bills of this cost center' },
      { name: 'kind', description: 'bill or credit-note', schema: { type: 'string', enum: ['bill', 'credit-note'] } },
      ...PERIOD_DOC.map((p) => ({ ...p, description: `Bills whose period overlaps [from, to). ${p.description}` })),
    ],
    response: { type: 'array', items: { type: 'object', properties: { number: { type: 'string' }, kind: { type: 'string' }, subject: { type: 'object' }, from: { type: 'string' }, to: { type: 'string' }, total: { type: 'string' }, currency: { type: 'string' }, issuedAt: { type: 'string' }, references: { type: 'string', nullable: true } } } },
    run(ctx) {
      const q = ctx.request.query;
      onlyParams(q, ['meter', 'cost_center', 'kind', 'from', 'to', ...PAGE_KEYS]);
      const page = pageRequest<string>(q, 'bills', 'string');
      const meter = optionalString('meter', q.meter);
      const center = optionalString('cost_center', q.cost_center);
      if (meter !== undefined && center !== undefined) throw new ApiError(400, 'give meter or cost_center, not both');
      const kind = optionalString('kind', q.kind);
      if (kind !== undefined && kind !== 'bill' && kind !== 'credit-note') throw new ApiError(400, `kind ${JSON.stringify(kind)} must be bill or credit-note`);
      const period = q.from === undefined && q.to === undefined ? {} : billPeriod(q.from, q.to, ctx.timeZone, ctx.now());
      const bills = ctx.bills.list({
        ...(meter !== undefined ? { subjectType: 'meter' as const, subject: meter } : {}),
        ...(center !== undefined ? { subjectType: 'cost-center' as const, subject: center } : {}),
        ...(kind ? { kind } : {}), ...period,
      });
      const meters = callerOf(ctx).meters;
      const issued = (b: Bill) => `${String(b.issuedAt ?? 0).padStart(16, '0')}\u0000${b.number}`;
      return pageReply(pageOf('bills', bills.filter((b) => billVisible(b, meters)), issued, page), billSummary);
    },
  },
  {
    name: 'bills.get', method: 'GET', path: '/api/bills/:number', access: 'viewer', tag: TAG,
    summary: 'One issued bill or credit note',
    query: [FORMAT_DOC],
    produces: ['text/csv', 'text/html'],
    response: BILL,
    run(ctx) {
      onlyParams(ctx.request.query, ['format']);
      billFormat(ctx.request.query.format);
      return answer(visibleBill(ctx, pathParam(ctx, 'number')), ctx.request.query.format);
    },
  },
  {
    name: 'bills.credit', method: 'POST', path: '/api/bills/:number/credit-note', access: 'operator', tag: TAG,
    summary: 'Cancel an issued bill with a credit note',
    description: 'Issues a credit note (CN-<year>-<sequence>) negating every line, tax and total of the bill. A bill is credited once (409 after); then a corrected bill can be issued for the same period.',
    body: { type: 'object', properties: { reason: { type: 'string' } } },
    response: BILL,
    run(ctx) {
      const body = ctx.request.body === undefined || ctx.request.body === null || ctx.request.body === '' ? {} : bodyObject(ctx);
      for (const k of Object.keys(body)) if (k !== 'reason') throw new ApiError(400, `unknown field "${k}" (use reason)`);
      const reason = optionalString('reason', body.reason);
      const original = visibleBill(ctx, pathParam(ctx, 'number'));
      if (original.kind !== 'bill') throw new ApiError(409, `${original.number} is a credit note: only a bill can be credited`);
      return issue(ctx, creditNote(original, reason));
    },
  },
];

export const BILLING_OPERATIONS: Operation[] = [...crud.tariffs, ...crud.costCenters, ...BILL_OPERATIONS];
