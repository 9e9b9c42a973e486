import type { EventLevel } from './types';

/** The levels an EMS event can have. */
export const EVENT_LEVELS: readonly EventLevel[] = ['info', 'warning', 'error'];

/** Checks the shape of one event (every backend applies the same rules); a message naming the field, or null. */
export function eventProblem(e: unknown): string | null {
  if (e === null || typeof e !== 'object') return `event must be an object, got ${JSON.stringify(e)}`;
  const x = e as Record<string, unknown>;
  if (typeof x.time !== 'number' || !Number.isFinite(x.time)) return `event.time must be epoch milliseconds, got ${JSON.stringify(x.time)}`;
  if (!EVENT_LEVELS.includes(x.level as EventLevel)) return `event.level must be one of ${EVENT_LEVELS.join(', ')}, got ${JSON.stringify(x.level)}`;
  if (typeof x.kind !== 'string' || x.kind === '') return `event.kind must be a non-empty string, got ${JSON.stringify(x.kind)}`;
  if (typeof x.message !== 'string') return `event.message must be a string, got ${JSON.stringify(x.message)}`;
  if (x.meter !== undefined && typeof x.meter !== 'string') return `event.meter must be a string, got ${JSON.stringify(x.meter)}`;
  if (x.source !== undefined && typeof x.source !== 'string') return `event.source must be a string, got ${JSON.stringify(x.source)}`;
  return null;
}
