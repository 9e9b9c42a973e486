export { UtilitarianClient, UtilitarianError, describeErrors, type UtilitarianClientOptions, type PushResult, type Page } from './client';
export { seriesName, obisOfSeries, seriesBody, decimal } from './series';
export { SPEC, ROUTES, matchRoute, validateBody, writableFields, definition, type Route, type Operation, type FieldErrors, type Schema } from '../../specs/utilitarian/spec';
