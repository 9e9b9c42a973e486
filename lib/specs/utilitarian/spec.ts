/**
 * The Utilitarian API v1.3.0 spec (Swagger 2.0, openapi-v1.3.0.json: a JSON copy of the YAML, checked
 * against it by test/lib/utilitarian-conformance.test.ts) turned into routes and field rules. Both the
 * simulator (routing, validation) and the client (refusing bad bodies before sending) use this module.
 */
import raw from './openapi-v1.3.0.json';

export interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  uniqueItems?: boolean;
  readOnly?: boolean;
  'x-nullable'?: boolean;
  $ref?: string;
  title?: string;
}

interface SpecParam { name: string; in: string; type?: string; format?: string; schema?: Schema; required?: boolean }
interface SpecOp { operationId: string; parameters?: SpecParam[]; responses: Record<string, { schema?: Schema }> }

export const SPEC = raw as unknown as {
  basePath: string;
  paths: Record<string, Record<string, SpecOp | SpecParam[]>>;
  definitions: Record<string, Schema>;
};

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Operation {
  method: Method;
  /** The spec's path, e.g. "/metering/meter-devices/{id}". */
  path: string;
  operationId: string;
  /** Definition name of the request body, e.g. "MeterDevice". */
  body?: string;
  /** The success status and its schema (list responses are inline paginated schemas). */
  status: number;
  response?: Schema;
  query: string[];
}

export interface Route {
  path: string;
  /** Path without trailing slash and without "/{id}": the collection this route belongs to. */
  collection: string;
  item: boolean;
  idType?: 'uuid' | 'integer';
  regex: RegExp;
  ops: Partial<Record<Method, Operation>>;
}

const refName = (ref: string | undefined) => ref?.replace('#/definitions/', '');

function buildRoutes(): Route[] {
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(SPEC.paths)) {
    const params = (item.parameters ?? []) as SpecParam[];
    const idParam = params.find((p) => p.in === 'path');
    const trimmed = path.replace(/\/$/, '');
    const route: Route = {
      path, item: !!idParam, collection: trimmed.replace(/\/\{id\}$/, ''),
      idType: idParam ? (idParam.type === 'integer' ? 'integer' : 'uuid') : undefined,
      regex: new RegExp(`^${trimmed.replace('{id}', '([^/]+)')}/?$`),
      ops: {},
    };
    for (const [m, op] of Object.entries(item)) {
      if (m === 'parameters') continue;
      const o = op as SpecOp;
      const [code, res] = Object.entries(o.responses)[0];
      route.ops[m as Method] = {
        method: m as Method, path, operationId: o.operationId, status: Number(code), response: res.schema,
        body: refName((o.parameters ?? []).find((p) => p.in === 'body')?.schema?.$ref),
        query: (o.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      };
    }
    routes.push(route);
  }
  // Literal segments before {id}: /organizations/memberships/ before /organizations/{id}, .../invoke before .../{id}.
  return routes.sort((a, b) => Number(a.item) - Number(b.item));
}

export const ROUTES: readonly Route[] = buildRoutes();

/** Finds the route of a path relative to the API root (with or without trailing slash). */
export function matchRoute(path: string): { route: Route; id?: string } | undefined {
  for (const route of ROUTES) {
    const m = route.regex.exec(path);
    if (m) return { route, id: m[1] };
  }
  return undefined;
}

export function definition(name: string): Schema {
  const d = SPEC.definitions[name];
  if (!d) throw new Error(`Utilitarian spec has no definition ${JSON.stringify(name)}`);
  return d;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO 8601 date-time as DRF accepts it (offset optional: naive means UTC). */
export const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;
export const DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export type FieldErrors = Record<string, string[]>;

/** DRF's messages for one value against one property schema; undefined when valid. */
function fieldProblem(value: unknown, s: Schema): string | undefined {
  if (value === null) return s['x-nullable'] ? undefined : 'This field may not be null.';
  switch (s.type) {
    case 'string': {
      if (s.format === 'decimal') {
        if ((typeof value !== 'string' && typeof value !== 'number') || !DECIMAL_RE.test(String(value).trim())) return 'A valid number is required.';
        return undefined;
      }
      if (typeof value !== 'string') return s.format === 'uuid' ? 'Must be a valid UUID.' : 'Not a valid string.';
      if (s.format === 'uuid') return UUID_RE.test(value) ? undefined : 'Must be a valid UUID.';
      if (s.format === 'date-time') {
        return DATETIME_RE.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')))
          ? undefined : 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].';
      }
      if (value === '' && (s.minLength ?? 0) >= 1) return 'This field may not be blank.';
      if (s.maxLength !== undefined && value.length > s.maxLength) return `Ensure this field has no more than ${s.maxLength} characters.`;
      if (s.minLength !== undefined && value.length < s.minLength) return `Ensure this field has at least ${s.minLength} characters.`;
      if (s.enum && !s.enum.includes(value)) return `"${value}" is not a valid choice.`;
      if (s.pattern && !new RegExp(s.pattern).test(value)) return 'This value does not match the required pattern.';
      if (s.format === 'uri' && !/^[a-z][a-z0-9+.-]*:\/\/[^\s/]+\S*$/i.test(value)) return 'Enter a valid URL.';
      return undefined;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'A valid integer is required.';
      if (s.enum && !s.enum.includes(value)) return `"${value}" is not a valid choice.`;
      if (s.maximum !== undefined && value > s.maximum) return `Ensure this value is less than or equal to ${s.maximum}.`;
      if (s.minimum !== undefined && value < s.minimum) return `Ensure this value is greater than or equal to ${s.minimum}.`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'Must be a valid boolean.';
    case 'object':
      return typeof value === 'object' && !Array.isArray(value) ? undefined : `Expected a dictionary of items but got type "${Array.isArray(value) ? 'list' : typeof value}".`;
    case 'array': {
      if (!Array.isArray(value)) return `Expected a list of items but got type "${typeof value}".`;
      for (const v of value) {
        const p = s.items ? fieldProblem(v, s.items) : undefined;
        if (p) return p;
      }
      if (s.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) return 'Duplicate items are not allowed.';
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Validates a request body against a definition the way DRF's serializer does: unknown and read-only
 * fields are ignored, required fields are enforced unless `partial` (PATCH). Answers DRF's error dict
 * ({"field": ["message"]}) or undefined when the body is valid.
 */
export function validateBody(defName: string, body: unknown, partial = false): FieldErrors | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { non_field_errors: [`Invalid data. Expected a dictionary, but got ${Array.isArray(body) ? 'list' : body === null ? 'NoneType' : typeof body}.`] };
  }
  const def = definition(defName);
  const errors: FieldErrors = {};
  const b = body as Record<string, unknown>;
  for (const [name, prop] of Object.entries(def.properties ?? {})) {
    if (prop.readOnly) continue;
    if (!(name in b) || b[name] === undefined) {
      if (!partial && def.required?.includes(name)) errors[name] = ['This field is required.'];
      continue;
    }
    const p = fieldProblem(b[name], prop);
    if (p) errors[name] = [p];
  }
  return Object.keys(errors).length ? errors : undefined;
}

/** The writable fields of a definition (what a create/update may carry). */
export function writableFields(defName: string): string[] {
  return Object.entries(definition(defName).properties ?? {}).filter(([, p]) => !p.readOnly).map(([n]) => n);
}
