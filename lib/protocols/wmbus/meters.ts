/**
 * Which configured meter a telegram belongs to: a meter is named by its 8-digit id, optionally with its
 * 3-letter manufacturer code ("12345678", "ELS12345678", "ELS-12345678", "ELS 12345678").
 */
export interface WmbusAddress { id: string; manufacturer?: string }

export const WMBUS_ADDRESS = /^(?:([A-Za-z]{3})[-\s]?)?(\d{8})$/;

export function parseWmbusAddress(text: string, field = 'meter id'): WmbusAddress {
  const m = WMBUS_ADDRESS.exec(String(text).trim());
  if (!m) throw new Error(`${field} ${JSON.stringify(text)} must be the meter's 8-digit id, optionally after its manufacturer code (e.g. 12345678 or ELS12345678)`);
  return m[1] ? { id: m[2], manufacturer: m[1].toUpperCase() } : { id: m[2] };
}

export function addressMatches(a: WmbusAddress, meter: { id: string; manufacturer: string }): boolean {
  return a.id === meter.id && (!a.manufacturer || a.manufacturer === meter.manufacturer);
}

/** The EMS meter (protocol "wmbus") whose connection_address names this telegram's meter. */
export function findWmbusMeter<M extends { definition: { protocol?: unknown; connection_address?: unknown } }>(
  meters: M[], meter: { id: string; manufacturer: string },
): M | undefined {
  return meters.find((m) => {
    if (m.definition.protocol !== 'wmbus') return false;
    const a = WMBUS_ADDRESS.exec(String(m.definition.connection_address ?? '').trim());
    return a !== null && addressMatches(a[1] ? { id: a[2], manufacturer: a[1].toUpperCase() } : { id: a[2] }, meter);
  });
}

/** "12345678=KEY" / "ELS12345678 KEY" lines (or comma separated) -> address and key pairs; errors name the entry, never the key. */
export function parseKeyList(text: string): { address: WmbusAddress; key: string }[] {
  const out: { address: WmbusAddress; key: string }[] = [];
  for (const [i, raw] of String(text ?? '').split(/[\n,;]+/).entries()) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\S+?)\s*[=:\s]\s*([0-9A-Fa-f]{32})$/.exec(entry);
    if (!m) throw new Error(`key entry ${i + 1} must be "<meter id>=<32 hex digits>" (meter ${JSON.stringify(entry.split(/[=:\s]/)[0])})`);
    out.push({ address: parseWmbusAddress(m[1], `key entry ${i + 1}: meter id`), key: m[2].toUpperCase() });
  }
  return out;
}
