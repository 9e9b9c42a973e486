/** Accounting objects: electricity and calculation model trees binding meters to tariffs (section "Accounting objects"). */
import { ApiError } from '../envelope';
import { OBJECT_MODELS, type ObjectModel } from '../objects';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
import { ApiReply, type Operation } from './types';

const TAG = 'Accounting objects';

const TRANSFORMER = {
  type: 'object', nullable: true,
  description: 'Instrument transformer: ratio "primary/secondary" ("10000/100" V for a voltage transformer, "200/5" A for a current transformer), serial, accuracy class',
  properties: { ratio: { type: 'string', example: '10000/100' }, serial: { type: 'string' }, class: { type: 'string', example: '0.5S' } },
  required: ['ratio'],
};

const FIELDS_DOC = 'tn1 and tn2 are the voltage transformers (ТН, e.g. ratio "10000/100"), tt the current transformer (ТТ, e.g. "200/5"). '
  + 'The answer\'s transformer_factor is the voltage ratio (tn1, else tn2) times the current ratio (tt): the factor from secondary to primary energy. '
  + 'It is recorded, not applied: bills price the readings as stored, so configure the meter to read primary values. '
  + 'tariff_id binds a stored tariff: the meter\'s bill (GET /api/meters/:id/bill) uses the tariff of the object bound to the meter, or of its nearest ancestor with one. '
  + 'An object is visible when its meter is in the caller\'s folders (objects without a meter always are); a hidden object hides its child objects.';

const BODY = {
  type: 'object',
  properties: {
    model: { type: 'string', enum: [...OBJECT_MODELS], default: 'electricity' },
    type: { type: 'string', description: 'Kind of object, e.g. substation, feeder, consumer (default "object")' },
    name: { type: 'string' },
    meter_id: { type: 'string', nullable: true, description: 'The meter measuring this object' },
    tariff_id: { type: 'string', nullable: true, description: 'A stored tariff (GET /api/tariffs)' },
    parent_id: { type: 'string', nullable: true, description: 'The parent object (same model); no cycles' },
    date: { type: 'array', items: { type: 'string', format: 'date' }, description: 'Dates such as commissioning and verification, YYYY-MM-DD' },
    tn1: TRANSFORMER, tn2: TRANSFORMER, tt: TRANSFORMER,
    obis: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels per OBIS code, e.g. {"1-0:1.8.0": "Active energy import"}' },
    parameters: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, value: {}, unit: { type: 'string' } }, required: ['name'] } },
    block: { type: 'array', items: { type: 'string' }, description: 'Blocks (building blocks, bays) the object belongs to' },
    location: { type: 'array', items: { type: 'string' }, description: 'Location lines (site, building, room)' },
  },
};

const OBJECT = {
  type: 'object',
  properties: {
    _id: { type: 'string' }, ...BODY.properties, transformer_factor: { type: 'number' },
    createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
    child_objects: { type: 'array', items: { type: 'object' } },
  },
};

function modelParam(v: unknown): ObjectModel | undefined {
  if (v === undefined || v === '') return undefined;
  if (!(OBJECT_MODELS as readonly unknown[]).includes(v)) throw new ApiError(400, `model ${JSON.stringify(v)} must be one of ${OBJECT_MODELS.join(', ')}`);
  return v as ObjectModel;
}

export const OBJECT_OPERATIONS: Operation[] = [
  {
    name: 'objects.list', method: 'GET', path: '/api/objects', access: 'viewer', tag: TAG,
    summary: 'The accounting object tree of a model',
    description: `Root objects with their children nested in child_objects. ${FIELDS_DOC}`,
    query: [{ name: 'model', description: 'electricity or calculation (default: both)', schema: { type: 'string', enum: [...OBJECT_MODELS] } }],
    response: { type: 'array', items: OBJECT },
    run(ctx) {
      onlyParams(ctx.request.query, ['model']);
      return ctx.services.objects.tree(modelParam(ctx.request.query.model), callerOf(ctx).meters);
    },
  },
  {
    name: 'objects.get', method: 'GET', path: '/api/objects/:id', access: 'viewer', tag: TAG,
    summary: 'One accounting object with obis, block, location and its direct child objects',
    description: FIELDS_DOC,
    response: OBJECT,
    run(ctx) {
      onlyParams(ctx.request.query, []);
      return ctx.services.objects.get(pathParam(ctx, 'id'), callerOf(ctx).meters);
    },
  },
  {
    name: 'objects.create', method: 'POST', path: '/api/objects', access: 'operator', tag: TAG,
    summary: 'Create an accounting object',
    description: `name is required; unknown meter_id, tariff_id or parent_id answer 400. ${FIELDS_DOC}`,
    body: { ...BODY, required: ['name'] },
    response: OBJECT,
    run(ctx) {
      const { user, meters } = callerOf(ctx);
      return new ApiReply({ data: ctx.services.objects.create(bodyObject(ctx), meters, user.login), status: 201 });
    },
  },
  {
    name: 'objects.update', method: 'PUT', path: '/api/objects/:id', access: 'operator', tag: TAG,
    summary: 'Change an accounting object',
    description: `Fields given replace the stored ones; null clears meter_id, tariff_id, parent_id, tn1, tn2 or tt. A parent_id that would make a cycle answers 400. ${FIELDS_DOC}`,
    body: BODY,
    response: OBJECT,
    run(ctx) {
      const { user, meters } = callerOf(ctx);
      return ctx.services.objects.update(pathParam(ctx, 'id'), bodyObject(ctx), meters, user.login);
    },
  },
  {
    name: 'objects.delete', method: 'DELETE', path: '/api/objects/:id', access: 'operator', tag: TAG,
    summary: 'Delete an accounting object without child objects',
    description: 'An object that still has child objects answers 409 naming them.',
    response: { type: 'string' },
    run(ctx) {
      const { user, meters } = callerOf(ctx);
      const id = pathParam(ctx, 'id');
      const { name } = ctx.services.objects.get(id, meters);
      ctx.services.objects.delete(id, meters, user.login);
      return `deleted accounting object "${name}"`;
    },
  },
];
