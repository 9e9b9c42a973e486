/** File imports of readings (section "Imports"): preview, commit, list, show and undo. */
import { ApiError } from '../envelope';
import { DEFAULT_IMPORT_LIST, ImportService, MAX_IMPORT_LIST } from '../imports/service';
import { COLUMN_ALIASES, MAX_LISTED_ERRORS } from '../imports/readings';
import { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_XLSX_UNZIPPED } from '../imports/table';
import { FUTURE_TOLERANCE_MS } from '../manual-readings';
import { callerOf, checkMeterVisible, onlyParams, pathParam } from './helpers';
import { decodeCursor, fullPageCursor } from './paging';
import { ApiReply, type ApiContext, type Operation } from './types';

const TAG = 'Imports';
const MIB = 1024 * 1024;

function service(ctx: ApiContext): ImportService {
  return new ImportService(ctx.services.db, ctx.store, ctx.services.events);
}

/** The uploaded file: the multipart field "file" (else the first file), or the raw body (text/csv, an XLSX). */
function fileOf(ctx: ApiContext): { bytes: Buffer; name?: string } {
  const files = ctx.request.files ?? [];
  const file = files.find((f) => f.fieldname === 'file') ?? files[0];
  if (file) return { bytes: file.buffer, name: file.originalname?.slice(0, 200) };
  const body = ctx.request.body;
  if (Buffer.isBuffer(body)) return { bytes: body };
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8') };
  throw new ApiError(400, 'file is missing: upload it as the multipart/form-data field "file", or send it as the body (Content-Type text/csv or the XLSX type)');
}

function optionalText(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 200) throw new ApiError(400, `${name} ${JSON.stringify(v)} must be a text of at most 200 characters`);
  return v;
}

/** Whether the caller may see every meter of a list (an import is visible only then). */
function seesAll(ctx: ApiContext): (meters: string[]) => boolean {
  const visible = callerOf(ctx).meters;
  return (meters) => !visible || meters.every((m) => visible.has(m));
}

function importId(ctx: ApiContext): number {
  const raw = pathParam(ctx, 'id');
  const id = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(id)) throw new ApiError(400, `id ${JSON.stringify(raw)} must be an import number`);
  return id;
}

const IMPORT_RECORD = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, created_at: { type: 'string', format: 'date-time' }, created_by: { type: 'string' }, file_name: { type: 'string', nullable: true },
    format: { type: 'string', enum: ['csv', 'xlsx'] }, time_zone: { type: 'string' }, rows: { type: 'integer' }, added: { type: 'integer' }, replaced: { type: 'integer' },
    unchanged: { type: 'integer' }, meters: { type: 'object', additionalProperties: { type: 'integer' } },
    undone_at: { type: 'string', format: 'date-time', nullable: true }, undone_by: { type: 'string', nullable: true },
  },
};

const aliases = Object.entries(COLUMN_ALIASES).map(([c, names]) => `${c} (${names.join(', ')})`).join('; ');

export const IMPORT_OPERATIONS: Operation[] = [
  {
    name: 'imports.create', method: 'POST', path: '/api/imports', access: 'operator', tag: TAG, upload: true,
    summary: 'Import readings from a CSV or XLSX file: preview (default) or commit',
    description: `The file is the multipart/form-data field "file", or the body itself (Content-Type text/csv, text/plain or the XLSX type); at most ${MAX_IMPORT_BYTES / MIB} MiB and ${MAX_IMPORT_ROWS} rows. `
      + 'CSV: UTF-8 with or without a BOM, the separator (comma, semicolon or tab) found in the header line, quoted fields, CRLF or LF; with a semicolon separator values may use a decimal comma (1234,5). '
      + `XLSX: the first sheet, or sheet=<name>; an XLSX that unzips to more than ${MAX_XLSX_UNZIPPED / MIB} MiB is refused before unzipping. `
      + `The header row names the columns (case and spaces do not matter): ${aliases}; other columns are ignored and listed. The meter column may be left out with meter=<id>. `
      + 'time: ISO 8601 with an offset, epoch ms, or a local date-time without offset (2026-03-01 08:00, 2026/03/01 08:00:00, 01.03.2026 08:00) read in the meter\'s time zone: its folder\'s (the nearest folder above with a time_zone), else the EMS time zone (time_zone in the answer; meter_time_zones names the meters read in another zone); '
      + 'a local time skipped or repeated at a DST change is a bad row. XLSX date cells are local times in the same zone, to the second. '
      + `Each row is checked like a posted reading (known OBIS code and a unit that measures it, not more than ${FUTURE_TOLERANCE_MS / 60_000} minutes in the future). A meter outside the caller's folders, or none, is a bad row. `
      + `mode=preview writes nothing and answers the rows read, readings per meter, how many are new, unchanged or would replace a different stored value, and the bad rows by line, column and value (at most ${MAX_LISTED_ERRORS}, with a count of the rest). `
      + 'mode=commit is all or nothing: any bad row is a 400 naming the rows; else the new and replaced readings are written with the IMPORTED and MANUAL quality flags (201 with the import\'s id). '
      + 'A file already imported (the same bytes, or the same readings) or one that changes nothing answers 200 naming the earlier import and writes nothing. Imports and undos are in the event log (kind import).',
    query: [
      { name: 'mode', description: 'preview (default: write nothing) or commit', schema: { type: 'string', enum: ['preview', 'commit'] } },
      { name: 'meter', description: 'The meter of every row (the file may then have no meter column)' },
      { name: 'sheet', description: 'XLSX: the sheet to read, by name (default: the first)' },
      { name: 'filename', description: 'A name to record for a file sent as the body' },
    ],
    body: { type: 'object', properties: { file: { type: 'string', format: 'binary', description: 'the CSV or XLSX file' } } },
    response: { type: 'object', properties: { import: { type: 'integer', nullable: true }, rows: { type: 'integer' }, meters: { type: 'object' }, new: { type: 'integer' }, unchanged: { type: 'integer' }, replaced: { type: 'integer' }, errors: { type: 'array', items: { type: 'object' } } } },
    async run(ctx) {
      const q = ctx.request.query;
      onlyParams(q, ['mode', 'meter', 'sheet', 'filename']);
      const mode = q.mode === undefined || q.mode === '' ? 'preview' : q.mode;
      if (mode !== 'preview' && mode !== 'commit') throw new ApiError(400, `mode ${JSON.stringify(q.mode)} must be preview or commit`);
      const caller = callerOf(ctx);
      const defined = new Set(ctx.services.registry.meterIds(caller.scope));
      const allowed = (id: string) => defined.has(id) && (!caller.meters || caller.meters.has(id));
      const meter = optionalText(q, 'meter');
      if (meter !== undefined) {
        checkMeterVisible(ctx, meter);
        if (!allowed(meter)) throw new ApiError(404, `unknown meter "${meter}"`);
      }
      const file = fileOf(ctx);
      // Local times of a meter are read in its folder's time zone (the nearest folder with one, else the EMS zone).
      const registry = ctx.services.registry;
      const folderOf = new Map(registry.meters(caller.scope).map((m) => [m._id, m.folder_id]));
      const zones = new Map<string, string>();
      const zoneOf = (m: string): string => {
        const folder = folderOf.get(m);
        if (folder === undefined) return ctx.timeZone;
        if (!zones.has(folder)) zones.set(folder, registry.timeZoneOf(folder, ctx.timeZone));
        return zones.get(folder)!;
      };
      const req = {
        bytes: file.bytes, fileName: file.name ?? optionalText(q, 'filename'), meter, sheet: optionalText(q, 'sheet'),
        timeZone: ctx.timeZone, zoneOf, now: ctx.now(), by: caller.user.login, meterAllowed: allowed,
      };
      const imports = service(ctx);
      if (mode === 'preview') return { mode, ...ImportService.summary(await imports.analyse(req), ctx.timeZone, zoneOf) };
      const done = await imports.commit(req);
      return new ApiReply({ status: done.created ? 201 : 200, data: { mode, ...done.data } });
    },
  },
  {
    name: 'imports.list', method: 'GET', path: '/api/imports', access: 'viewer', tag: TAG,
    summary: 'Committed imports, newest first',
    description: `At most limit (default ${DEFAULT_IMPORT_LIST}, at most ${MAX_IMPORT_LIST}) imports; a caller sees the imports whose meters all lie in their folders.`,
    query: [
      { name: 'limit', description: `Most imports to answer (default ${DEFAULT_IMPORT_LIST})`, schema: { type: 'integer', minimum: 1, maximum: MAX_IMPORT_LIST } },
      { name: 'cursor', description: 'The next_cursor of the previous page (opaque): older imports. next_cursor is set when a page is full (the next page may be empty), null otherwise', schema: { type: 'string' } },
    ],
    response: { type: 'array', items: IMPORT_RECORD },
    run(ctx) {
      onlyParams(ctx.request.query, ['limit', 'cursor']);
      const cursor = ctx.request.query.cursor;
      const before = cursor === undefined || cursor === '' ? undefined : decodeCursor('imports', cursor, 'number') as number;
      const raw = ctx.request.query.limit;
      const limit = raw === undefined || raw === '' ? DEFAULT_IMPORT_LIST : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_IMPORT_LIST) throw new ApiError(400, `limit ${JSON.stringify(raw)} must be an integer from 1 to ${MAX_IMPORT_LIST}`);
      const imports = service(ctx).list(limit, seesAll(ctx), before);
      return new ApiReply({ data: imports, nextCursor: fullPageCursor('imports', imports, limit, (i) => i.id) });
    },
  },
  {
    name: 'imports.get', method: 'GET', path: '/api/imports/:id', access: 'viewer', tag: TAG,
    summary: 'One import: who, when, which file, counts per meter, undone or not',
    response: IMPORT_RECORD,
    run: (ctx) => service(ctx).get(importId(ctx), seesAll(ctx)),
  },
  {
    name: 'imports.undo', method: 'DELETE', path: '/api/imports/:id', access: 'operator', tag: TAG,
    summary: 'Undo an import as a whole',
    description: 'Readings the import added are removed; readings it replaced get their previous value and quality back. Answers the counts and the restored readings (at most 100 listed). '
      + '409 when the import was undone already, or when a later import still in force wrote the same readings (undo that first). On InfluxDB 2.x each removed reading is one /api/v2/delete request.',
    response: { type: 'object', properties: { import: { type: 'integer' }, removed: { type: 'integer' }, restored: { type: 'integer' }, restored_readings: { type: 'array', items: { type: 'object' } } } },
    run: (ctx) => service(ctx).undo(importId(ctx), callerOf(ctx).user.login, ctx.now(), seesAll(ctx)),
  },
];
