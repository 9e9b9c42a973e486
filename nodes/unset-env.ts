/**
 * Node-RED replaces a property that is exactly `${NAME}` with the environment variable NAME, and leaves the
 * text as it is when NAME is not set. The shipped EMS flow uses such references (EMS_TIME_ZONE, EMS_MODBUS_HOST,
 * ...) so that environment variables override its settings; imported into a Node-RED without them, a reference
 * left as it is means "not configured": the node's own default applies.
 */
const UNSET_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** True when `value` is a `${NAME}` reference Node-RED left unreplaced. */
export function isUnsetEnvReference(value: unknown): boolean {
  return typeof value === 'string' && UNSET_REFERENCE.test(value.trim());
}

/** A copy of a node's definition whose unreplaced `${NAME}` properties are empty (so defaults apply). */
export function withoutUnsetEnv<T extends object>(def: T): T {
  const copy = { ...def } as Record<string, unknown>;
  for (const [key, value] of Object.entries(copy)) if (isUnsetEnvReference(value)) copy[key] = '';
  return copy as T;
}
