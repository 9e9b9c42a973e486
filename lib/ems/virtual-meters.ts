/**
 * Virtual meters in the registry: a meter of protocol "virtual" whose consumption is a weighted sum of other
 * meters' (its `expression`, virtual-expression.ts). References are by meter id, and ids never change, so
 * renaming a meter is harmless; deleting a meter a virtual meter uses is refused (409) naming the virtual meter.
 * At create/update an expression naming an unknown meter (or one the caller cannot see) or closing a loop
 * (a virtual meter over another virtual meter is fine) is refused (400) naming the meter.
 *
 * A virtual meter over virtual meters is flattened to one weighted sum of stored meters (`flatten`), so a
 * query costs one query per stored meter whatever the nesting.
 */
import { ApiError } from './envelope';
import type { MeterDefinition } from './meter-definition';
import { MAX_EXPRESSION_METERS, parseVirtualExpression, type Term } from './virtual-expression';

/** Deepest nesting of virtual meters over virtual meters. */
export const MAX_VIRTUAL_DEPTH = 8;
/** Most stored meters a flattened virtual meter may sum. */
export const MAX_FLAT_METERS = 2 * MAX_EXPRESSION_METERS;

type Lookup = (id: string) => Pick<MeterDefinition, 'protocol' | 'expression'> | undefined;

/** The ids an expression references (in order), or [] for a meter that is not virtual. */
export function referencesOf(def: Pick<MeterDefinition, 'protocol' | 'expression'>): string[] {
  return def.protocol === 'virtual' && def.expression ? parseVirtualExpression(def.expression).terms.map((t) => t.meter) : [];
}

/**
 * Throws 400 when the definition of meter `id` references a meter `lookup` does not know, references itself,
 * or closes a loop through other virtual meters (naming the path), or nests deeper than MAX_VIRTUAL_DEPTH.
 */
export function checkVirtualReferences(id: string, def: Pick<MeterDefinition, 'protocol' | 'expression'>, lookup: Lookup): void {
  if (def.protocol !== 'virtual') return;
  const of = (m: string): Pick<MeterDefinition, 'protocol' | 'expression'> | undefined => (m === id ? def : lookup(m));
  for (const ref of referencesOf(def)) {
    if (!of(ref)) throw new ApiError(400, `expression ${JSON.stringify(def.expression)}: unknown meter "${ref}" (reference meters by id; an id with - or . in braces: {${ref}})`);
  }
  const walk = (m: string, path: string[]): void => {
    if (path.length > MAX_VIRTUAL_DEPTH) throw new ApiError(400, `expression ${JSON.stringify(def.expression)}: virtual meters nest deeper than ${MAX_VIRTUAL_DEPTH} (${path.join(' -> ')})`);
    const d = of(m);
    if (!d) return;
    for (const ref of referencesOf(d)) {
      if (ref === id) throw new ApiError(400, `expression ${JSON.stringify(def.expression)}: meter "${ref}" refers back to "${id}" (${[...path, ref].join(' -> ')}), a loop`);
      walk(ref, [...path, ref]);
    }
  };
  walk(id, [id]);
}

/** The virtual meters among `meters` whose expression references `id` directly (by id, sorted). */
export function virtualUsersOf(id: string, meters: readonly { _id: string; definition: Pick<MeterDefinition, 'protocol' | 'expression'> }[]): string[] {
  return meters.filter((m) => m._id !== id && referencesOf(m.definition).includes(id)).map((m) => m._id).sort();
}

/** Throws 409 when virtual meters use meter `id` (deleting it, or turning it into a loop, would break them). */
export function checkNotUsed(id: string, meters: readonly { _id: string; definition: Pick<MeterDefinition, 'protocol' | 'expression'> }[]): void {
  const users = virtualUsersOf(id, meters);
  if (users.length) throw new ApiError(409, `meter "${id}" is used by virtual meter${users.length > 1 ? 's' : ''} ${users.map((u) => `"${u}"`).join(', ')}; change ${users.length > 1 ? 'their expressions' : 'its expression'} first`);
}

/**
 * A virtual meter as one weighted sum of stored (non-virtual) meters: nested virtual meters expanded,
 * coefficients of the same meter added. Throws when the nesting loops or is too deep (a definition that
 * changed under it), or sums more than MAX_FLAT_METERS meters.
 */
export function flatten(id: string, lookup: Lookup): Term[] {
  const weights = new Map<string, number>();
  const expand = (m: string, k: number, path: string[]): void => {
    const d = lookup(m);
    if (d?.protocol !== 'virtual') {
      weights.set(m, (weights.get(m) ?? 0) + k);
      return;
    }
    if (path.includes(m) || path.length > MAX_VIRTUAL_DEPTH) throw new ApiError(409, `virtual meter "${id}" cannot be calculated: ${[...path, m].join(' -> ')} loops or nests too deep`);
    for (const t of parseVirtualExpression(d.expression).terms) expand(t.meter, k * t.coefficient, [...path, m]);
  };
  expand(id, 1, []);
  if (weights.size > MAX_FLAT_METERS) throw new ApiError(409, `virtual meter "${id}" sums ${weights.size} stored meters, more than ${MAX_FLAT_METERS}`);
  return [...weights].map(([meter, coefficient]) => ({ meter, coefficient }));
}
