/**
 * The poll server (section "Poll server"): the folder tree with meters as leaves, and the meter
 * definitions with their newest readings. Reads need viewer, changes operator; everything is
 * limited to the caller's open folders (outside them: 404).
 */
import { ApiError } from '../envelope';
import { METER_FIELDS, PERIOD_TYPES, PROTOCOLS, publicDefinition, SECRET_FIELDS } from '../meter-definition';
import { checkOneEnergyCategory } from '../virtual-store';
import { FOLDER_TYPES, type BulkError, type MeterRecord, type TreeNode } from '../registry';
import type { Reading } from '../../model/reading';
import type { ReadingStore } from '../../store/types';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
import { metersFromCsv } from './meter-csv';
import { encodeCursor, PAGE_KEYS, pageParams, pageRequest, type PageSize } from './paging';
import { ApiReply, type ApiContext, type Operation } from './types';

const TAG = 'Poll server';

const TREE_NODE = {
  type: 'object',
  properties: {
    _id: { type: 'string' }, name: { type: 'string' }, folder_type: { type: 'string', description: `${FOLDER_TYPES.join(', ')}, or "meter" for a leaf` },
    parent_id: { type: 'string', nullable: true }, area_m2: { type: 'number', nullable: true, description: 'folders only: floor area in m2' },
    time_zone: { type: 'string', nullable: true, description: 'folders only: IANA zone of the space; null = the EMS zone' }, child_folders: { type: 'array', items: { type: 'object', description: 'folders, then meter leaves' } },
    meter: { type: 'string', description: 'leaves only: the meter id' }, meter_detail: { type: 'object', description: 'leaves only: the definition without the password (password_set)' },
  },
};

const FOLDER = {
  type: 'object',
  properties: {
    _id: { type: 'string' }, name: { type: 'string' }, folder_type: { type: 'string' }, parent_id: { type: 'string', nullable: true },
    area_m2: { type: 'number', nullable: true }, time_zone: { type: 'string', nullable: true },
  },
};

const FOLDER_BODY = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 100 },
    folder_type: { type: 'string', enum: [...FOLDER_TYPES], default: 'folder' },
    parent_id: { type: 'string', nullable: true, description: 'the parent folder; null = top level (only for users with every folder open)' },
    area_m2: { type: 'number', nullable: true, exclusiveMinimum: 0, description: 'floor area of the space in m2 (per-m2 figures of its site report); null = unknown' },
    time_zone: { type: 'string', nullable: true, description: 'IANA time zone of the space (its site report\'s days and months), e.g. Europe/Berlin; null = the EMS time zone' },
  },
};

const n = (description: string) => ({ oneOf: [{ type: 'string' }, { type: 'number' }], description });
const METER_PROPERTIES: Record<string, unknown> = {
  folder_id: { type: 'string', description: 'the folder the meter hangs in' },
  name: { type: 'string' },
  number_meter: { type: 'string', description: 'serial number on the nameplate' },
  connection_address: { type: 'string', description: 'Modbus unit id, M-Bus primary/secondary address, IEC device address, DLMS server address (1 = wrapper wPort, 1/17 = HDLC logical/physical)' },
  password: { type: 'string', format: 'password', description: 'stored encrypted (EMS_CREDENTIAL_SECRET), never returned (password_set)' },
  client_sap: n('dlms: client SAP 1-127; 0 (default) = by security_level: 16 lowest, 32 lls, 48 hls-gmac'),
  security_level: { type: 'string', enum: ['', 'lowest', 'lls', 'hls-gmac'], description: 'dlms: association security (lls uses password, hls-gmac the two keys); default lowest' },
  encryption_key: { type: 'string', format: 'password', description: 'dlms hls-gmac: global unicast encryption key, 32 hex digits; stored encrypted, never returned (encryption_key_set)' },
  authentication_key: { type: 'string', format: 'password', description: 'dlms hls-gmac: authentication key, 32 hex digits; stored encrypted, never returned (authentication_key_set)' },
  ip_address: { type: 'string', description: 'host, IP or serial device path under /dev; an IP must lie in the allowed poll networks (EMS_POLL_NETWORKS), a host name is checked at each poll' },
  port: n('TCP port (0 with a serial device path); default 502'),
  waiting_time: n('answer timeout, ms (50-600000); default 1000'),
  interval_time: n('poll interval, s; default 60'),
  pause_time: n('pause between requests, ms; default 0'),
  package_size: n('bytes per request, 0 = no splitting'),
  time_difference: n('allowed clock difference, s'),
  periodType: { type: 'string', enum: [...PERIOD_TYPES], description: 'how often a polling session starts: interval = every interval_time s all day; hourly = each local hour; daily = each local midnight; weekly = midnight of each days_of_week day (Monday when empty); monthly = midnight of each days_of_month day (the 1st when empty). Default interval' },
  data_polling_length: n('how long each session polls, s: every interval_time s from its start, within its hour/day/week/month; 0 = one poll per session (unused with interval)'),
  days_of_week: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'integer' } }], description: 'ISO weekdays 1-7, "1,2,3" or [1,2,3]; empty = every day' },
  days_of_month: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'integer' } }], description: 'days 1-31; empty = every day' },
  protocol: { type: 'string', enum: [...PROTOCOLS] },
  profile: { type: 'string', description: 'register map / codec profile: for Modbus a known register map id (e.g. eastron-sdm630), required; for dlms the OBIS codes to read (e.g. "1-0:1.8.0, 4:1-0:1.6.0"), "discover" or empty (energy, power, voltage, current)' },
  parent_meter: { type: 'string', description: 'master meter: the id of the meter this one is a sub-meter of; empty = none. Unknown ids, the meter itself and cycles are 400; a site report shows the master\'s unmetered remainder (master minus its sub-meters)' },
  energy_category: { type: 'string', description: 'energy category id (GET /api/energy-categories); empty = derived from the meter\'s OBIS codes (medium A)' },
  serial_line: { type: 'string', description: 'serial line settings of a serial device path, "<baud> <data bits><parity N|E|O><stop bits>" such as "9600 8N1"; empty = the protocol default (Modbus RTU 9600 8E1, M-Bus 2400 8E1)', example: '19200 8E1' },
  expression: { type: 'string', description: 'virtual meters only (protocol virtual, required there): a weighted sum of other meters by id with numbers, + - * / and parentheses, e.g. "main - hvac - lighting" or "0.5 * ({meter-1} + {meter.2})" (an id that is not an identifier in braces); unknown meters and loops are refused naming the meter', example: 'main - hvac' },
};

const METER_VIEW = {
  type: 'object',
  properties: {
    _id: { type: 'string' }, name: { type: 'string' }, folder_id: { type: 'string' },
    definition: { type: 'object', description: `${METER_FIELDS.filter((f) => !(SECRET_FIELDS as readonly string[]).includes(f)).join(', ')}, password_set (dlms meters also encryption_key_set, authentication_key_set)` },
    last_seen: { type: 'integer', nullable: true, description: 'epoch ms of the newest reading; null when never polled' },
    values: { type: 'array', description: 'the newest value per OBIS code', items: { type: 'object', properties: { obis: { type: 'string' }, value: { type: 'number' }, unit: { type: 'string' }, time: { type: 'integer' } } } },
    created_at: { type: 'integer' }, updated_at: { type: 'integer' },
  },
};

/** Meters per page of GET /api/meters (and the most a page may ask for). */
export const METER_PAGE: PageSize = { default: 1000, max: 1000 };
/** The most meters one POST /api/meters/bulk creates. */
export const MAX_BULK_METERS = 1000;
/** Up to this many meters, the newest values are read per meter; beyond it (not on sqlite) with one query for the fleet. */
const LATEST_PER_METER = 50;

/** The newest readings of each of these meters: one seek per meter on sqlite, one query on other stores for a long page. */
export async function latestOf(store: ReadingStore, ids: readonly string[]): Promise<Map<string, Reading[]>> {
  const out = new Map<string, Reading[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = store.kind === 'sqlite' || ids.length <= LATEST_PER_METER
    ? (await Promise.all(ids.map((meter) => store.latest({ meter })))).flat()
    : await store.latest();
  for (const r of rows) out.get(r.meter)?.push(r);
  return out;
}

/** A meter as the API shows it: the public definition plus its newest readings. */
function meterView(m: MeterRecord, latest: readonly Reading[]) {
  const mine = latest.filter((r) => r.meter === m._id).sort((a, b) => (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
  return {
    _id: m._id, name: m.definition.name, folder_id: m.folder_id, definition: publicDefinition(m.definition),
    last_seen: mine.length ? mine.reduce((t, r) => Math.max(t, r.time), -Infinity) : null,
    values: mine.map((r) => ({ obis: r.obis, value: r.value, unit: r.unit, time: r.time, ...(r.quality ? { quality: r.quality } : {}) })),
    created_at: m.created_at, updated_at: m.updated_at,
  };
}

function findNode(nodes: TreeNode[], id: string): TreeNode | undefined {
  for (const node of nodes) {
    if (node._id === id && node.folder_type !== 'meter') return node;
    const inside = findNode(node.child_folders, id);
    if (inside) return inside;
  }
  return undefined;
}

const scopeOf = (ctx: ApiContext) => callerOf(ctx).scope;

export const POLL_SERVER_OPERATIONS: Operation[] = [
  {
    name: 'folders.tree', method: 'GET', path: '/api/folders', access: 'viewer', tag: TAG,
    summary: 'The folder tree the caller sees, meters as leaves',
    description: 'A user with open_folders sees those folders with everything below them, and the folders above them as the path (without their other children). '
      + 'The tree answers whole (it is not paged); meters=false leaves the meter leaves out (page through them with GET /api/meters?folder=).',
    query: [{ name: 'meters', description: 'false: folders only, without the meter leaves (default true)', schema: { type: 'string', enum: ['true', 'false'] } }],
    response: { type: 'array', items: TREE_NODE },
    run(ctx) {
      onlyParams(ctx.request.query, ['meters']);
      const meters = ctx.request.query.meters;
      if (meters !== undefined && meters !== 'true' && meters !== 'false' && typeof meters !== 'boolean') throw new ApiError(400, `meters ${JSON.stringify(meters)} must be true or false`);
      return ctx.services.registry.tree(scopeOf(ctx), meters !== 'false' && meters !== false);
    },
  },
  {
    name: 'folders.get', method: 'GET', path: '/api/folders/:id', access: 'viewer', tag: TAG,
    summary: 'One folder with everything below it',
    response: TREE_NODE,
    run(ctx) {
      const id = pathParam(ctx, 'id');
      ctx.services.registry.folder(id, scopeOf(ctx)); // 404 outside the caller's folders
      const node = findNode(ctx.services.registry.tree(scopeOf(ctx)), id);
      if (!node) throw new ApiError(404, `unknown folder "${id}"`);
      return node;
    },
  },
  {
    name: 'folders.create', method: 'POST', path: '/api/folders', access: 'operator', tag: TAG,
    summary: 'Create a folder (answers 201 with it)',
    body: { ...FOLDER_BODY, required: ['name'] },
    response: FOLDER,
    run(ctx) {
      return new ApiReply({ data: ctx.services.registry.createFolder(bodyObject(ctx), scopeOf(ctx)), status: 201 });
    },
  },
  {
    name: 'folders.update', method: 'PUT', path: '/api/folders/:id', access: 'operator', tag: TAG,
    summary: 'Rename, retype or move a folder',
    description: 'A folder cannot be moved inside itself (400).',
    body: FOLDER_BODY,
    response: FOLDER,
    run: (ctx) => ctx.services.registry.updateFolder(pathParam(ctx, 'id'), bodyObject(ctx), scopeOf(ctx)),
  },
  {
    name: 'folders.delete', method: 'DELETE', path: '/api/folders/:id', access: 'operator', tag: TAG,
    summary: 'Delete an empty folder',
    description: 'A folder that still holds folders or meters is 409.',
    response: { type: 'string' },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      const { name } = ctx.services.registry.folder(id, scopeOf(ctx));
      ctx.services.registry.deleteFolder(id, scopeOf(ctx));
      return `deleted folder "${name}"`;
    },
  },
  {
    name: 'meters.list', method: 'GET', path: '/api/meters', access: 'viewer', tag: TAG,
    summary: 'The caller\'s meters with their newest values, in id order, a page at a time',
    description: `At most limit meters (default ${METER_PAGE.default}, at most ${METER_PAGE.max}) per answer; the envelope's next_cursor asks for the next page (null on the last). `
      + 'Paging is by meter id: a meter created or deleted between two pages never makes another appear twice or go missing.',
    query: [
      ...pageParams('/api/meters', METER_PAGE, 'meters'),
      { name: 'folder', description: 'Only the meters of this folder and the folders below it (a folder outside the caller\'s is 404)', schema: { type: 'string' } },
    ],
    response: { type: 'array', items: METER_VIEW },
    async run(ctx) {
      onlyParams(ctx.request.query, [...PAGE_KEYS, 'folder']);
      const page = pageRequest<string>(ctx.request.query, 'meters', 'string', METER_PAGE);
      const folder = ctx.request.query.folder;
      let below: ReadonlySet<string> | undefined;
      if (folder !== undefined) {
        if (typeof folder !== 'string' || folder === '') throw new ApiError(400, `folder ${JSON.stringify(folder)} must be a folder id`);
        ctx.services.registry.folder(folder, scopeOf(ctx)); // 404 outside the caller's folders
        below = ctx.services.registry.scopeOf([folder]);
      }
      const { items, more } = ctx.services.registry.meterPage(scopeOf(ctx), page.after, page.limit, below);
      const latest = await latestOf(ctx.store, items.map((m) => m._id));
      return new ApiReply({
        data: items.map((m) => meterView(m, latest.get(m._id) ?? [])),
        nextCursor: more ? encodeCursor('meters', items[items.length - 1]._id) : null,
      });
    },
  },
  {
    name: 'meters.get', method: 'GET', path: '/api/meters/:id', access: 'viewer', tag: TAG,
    summary: 'One meter with its newest values',
    response: METER_VIEW,
    async run(ctx) {
      const m = ctx.services.registry.meter(pathParam(ctx, 'id'), scopeOf(ctx));
      return meterView(m, await ctx.store.latest({ meter: m._id }));
    },
  },
  {
    name: 'meters.create', method: 'POST', path: '/api/meters', access: 'operator', tag: TAG,
    summary: 'Create a meter (answers 201 with it)',
    description: 'folder_id, name and protocol are required; the dictionary\'s string values ("502") are read as numbers. '
      + '_id chooses the meter id (the id its readings are stored under); without it one is made from the name. '
      + 'Meter ids are never reused: the id of a deleted meter answers 409, so its readings, bills and events never pass to another meter. '
      + 'Beyond the license\'s meter_limit the answer is 403.',
    body: { type: 'object', required: ['folder_id', 'name', 'protocol'], properties: { _id: { type: 'string', description: 'optional meter id: 1-64 letters, digits or . _ -' }, ...METER_PROPERTIES } },
    response: METER_VIEW,
    async run(ctx) {
      const { _id, ...body } = bodyObject(ctx);
      if (_id !== undefined && typeof _id !== 'string') throw new ApiError(400, `_id ${JSON.stringify(_id)} must be a string`);
      if (body.folder_id === undefined) throw new ApiError(400, 'folder_id is required');
      if (body.protocol === 'virtual') await checkOneEnergyCategory(ctx.store, body.expression, (m) => !!ctx.services.registry.definitionOf(m, scopeOf(ctx)));
      const m = ctx.services.registry.createMeter(body, scopeOf(ctx), _id);
      return new ApiReply({ data: meterView(m, []), status: 201 });
    },
  },
  {
    name: 'meters.bulk', method: 'POST', path: '/api/meters/bulk', access: 'operator', tag: TAG,
    summary: `Create (or import from CSV) up to ${MAX_BULK_METERS} meters in one request, all or none (answers 201 with them)`,
    description: 'Each item is a POST /api/meters body (folder_id, name and protocol required, _id optional); or { "csv": "<text>" }: a CSV table '
      + 'whose header names meter fields (_id, folder_id, name, protocol, port, ...), one meter per row, an empty cell leaving the field out. Every item is checked; '
      + 'when any is refused, none is created and the answer is 400 with data.errors listing each refusal as { index, field, message } '
      + '(index counts from 0; field is null when the refusal is not about one field; line: the CSV line). Later items may name earlier ones (parent_meter, expression). '
      + 'Beyond the license\'s meter_limit for the whole batch the answer is 403.',
    body: {
      type: 'object', required: ['meters'],
      properties: {
        meters: { type: 'array', minItems: 1, maxItems: MAX_BULK_METERS, items: { type: 'object', required: ['folder_id', 'name', 'protocol'], properties: { _id: { type: 'string' }, ...METER_PROPERTIES } } },
        csv: { type: 'string', description: `instead of meters: a CSV table (comma, semicolon or tab separated) of at most ${MAX_BULK_METERS} meters` },
      },
    },
    response: { type: 'array', items: METER_VIEW },
    async run(ctx) {
      const b = bodyObject(ctx);
      for (const k of Object.keys(b)) if (k !== 'meters' && k !== 'csv') throw new ApiError(400, `unknown field "${k}" (the body is { "meters": [ ... ] } or { "csv": "..." })`);
      if ((b.meters === undefined) === (b.csv === undefined)) throw new ApiError(400, 'send meters (a list of meter bodies) or csv (a CSV table of meters), one of the two');
      const rows = b.csv === undefined ? undefined : metersFromCsv(b.csv, MAX_BULK_METERS);
      const list = rows ? rows.map((r) => r.body) : b.meters;
      if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BULK_METERS) {
        throw new ApiError(400, `meters ${Array.isArray(list) ? `(${list.length} items)` : JSON.stringify(list)} must be a list of 1 to ${MAX_BULK_METERS} meter bodies`);
      }
      const errors: BulkError[] = [];
      const items = list.map((item: unknown, index) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          errors.push({ index, field: null, message: `meters[${index}] ${JSON.stringify(item)} must be an object with the meter's fields` });
          return { body: {}, id: undefined, invalid: true };
        }
        const { _id, ...body } = item as Record<string, unknown>;
        if (_id !== undefined && typeof _id !== 'string') errors.push({ index, field: '_id', message: `_id ${JSON.stringify(_id)} must be a string` });
        return { body, id: typeof _id === 'string' ? _id : undefined, invalid: _id !== undefined && typeof _id !== 'string' };
      });
      for (const [index, { body }] of items.entries()) {
        if (body.protocol !== 'virtual') continue;
        try {
          await checkOneEnergyCategory(ctx.store, body.expression, (m) => !!ctx.services.registry.definitionOf(m, scopeOf(ctx)) || items.some((i) => i.id === m));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          errors.push({ index, field: 'expression', message: err.message });
        }
      }
      let created;
      try {
        created = ctx.services.registry.createMeters(items, scopeOf(ctx), errors);
      } catch (err) {
        // CSV refusals also name the line of the row.
        if (rows && err instanceof ApiError && Array.isArray((err.data as { errors?: unknown })?.errors)) {
          throw new ApiError(err.status, err.message, { errors: (err.data as { errors: BulkError[] }).errors.map((e) => ({ ...e, line: rows[e.index].line })) });
        }
        throw err;
      }
      return new ApiReply({ data: created.map((m) => meterView(m, [])), status: 201 });
    },
  },
  {
    name: 'meters.update', method: 'PUT', path: '/api/meters/:id', access: 'operator', tag: TAG,
    summary: 'Change some of a meter\'s fields, or move it to another folder',
    description: 'Only the fields sent change; an empty password clears it.',
    body: { type: 'object', properties: METER_PROPERTIES },
    response: METER_VIEW,
    async run(ctx) {
      await checkOneEnergyCategory(ctx.store, bodyObject(ctx).expression, (m) => !!ctx.services.registry.definitionOf(m, scopeOf(ctx)));
      const m = ctx.services.registry.updateMeter(pathParam(ctx, 'id'), bodyObject(ctx), scopeOf(ctx));
      return meterView(m, await ctx.store.latest({ meter: m._id }));
    },
  },
  {
    name: 'meters.delete', method: 'DELETE', path: '/api/meters/:id', access: 'operator', tag: TAG,
    summary: 'Delete a meter (its stored readings stay; its id is never used again)',
    description: 'A meter a virtual meter\'s expression uses is not deleted: 409 naming the virtual meters (change their expressions first).',
    response: { type: 'string' },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      const m = ctx.services.registry.meter(id, scopeOf(ctx));
      ctx.services.registry.deleteMeter(id, scopeOf(ctx));
      return `deleted meter "${m.definition.name}" (${id})`;
    },
  },
];
