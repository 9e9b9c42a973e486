/**
 * The poll server (section "Poll server"): the folder tree with meters as leaves, and the meter
 * definitions with their newest readings. Reads need viewer, changes operator; everything is
 * limited to the caller's open folders (outside them: 404).
 */
import { ApiError } from '../envelope';
import { METER_FIELDS, PERIOD_TYPES, PROTOCOLS, publicDefinition, SECRET_FIELDS } from '../meter-definition';
import { checkOneEnergyCategory } from '../virtual-store';
import { FOLDER_TYPES, type MeterRecord, type TreeNode } from '../registry';
import type { Reading } from '../../model/reading';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
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

/** A meter as the API shows it: the public definition plus its newest readings. */
function meterView(m: MeterRecord, latest: readonly Reading[]) {
  const mine = latest.filter((r) => r.meter === m._id).sort((a, b) => a.obis.localeCompare(b.obis));
  return {
    _id: m._id, name: m.definition.name, folder_id: m.folder_id, definition: publicDefinition(m.definition),
    last_seen: mine.length ? Math.max(...mine.map((r) => r.time)) : null,
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
    description: 'A user with open_folders sees those folders with everything below them, and the folders above them as the path (without their other children).',
    response: { type: 'array', items: TREE_NODE },
    run(ctx) {
      onlyParams(ctx.request.query, []);
      return ctx.services.registry.tree(scopeOf(ctx));
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
    summary: 'The caller\'s meters with their newest values',
    response: { type: 'array', items: METER_VIEW },
    async run(ctx) {
      onlyParams(ctx.request.query, []);
      const meters = ctx.services.registry.meters(scopeOf(ctx));
      const latest = meters.length ? await ctx.store.latest() : [];
      return meters.map((m) => meterView(m, latest));
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
