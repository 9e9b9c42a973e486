/**
 * OBIS codes (IEC 62056-61): A-B:C.D.E*F. We keep the reduced "A-B:C.D.E" form as canonical and accept
 * common shorthand on the way in ("1.8.0" -> "1-0:1.8.0", "1-0:1.8.0*255", "1-0:1.8.0.255").
 */
export interface ObisCode {
  medium: number; // A: 0 abstract, 1 electricity, 4 heat cost allocator, 5 cooling, 6 heat, 7 gas, 8 cold water, 9 hot water
  channel: number; // B
  quantity: number; // C
  processing: number; // D
  tariff: number; // E
}

export const Medium = { ABSTRACT: 0, ELECTRICITY: 1, HCA: 4, COOLING: 5, HEAT: 6, GAS: 7, COLD_WATER: 8, HOT_WATER: 9 } as const;

const FULL = /^(\d{1,3})-(\d{1,3}):(\d{1,3}|[A-Z])\.(\d{1,3})\.(\d{1,3})(?:[*.&](\d{1,3}))?$/;
const SHORT = /^(\d{1,3}|[A-Z])\.(\d{1,3})\.(\d{1,3})(?:[*&](\d{1,3}))?$/;
const LETTER_C: Record<string, number> = { C: 96, F: 97, L: 98, P: 99 };

function group(s: string): number {
  return s in LETTER_C ? LETTER_C[s] : Number(s);
}

/** Parses an OBIS code; throws an Error naming the text when it is not one. */
export function parseObis(text: string, defaultMedium = 1): ObisCode {
  const t = String(text).trim();
  let m = FULL.exec(t);
  let code: ObisCode | undefined;
  if (m) code = { medium: +m[1], channel: +m[2], quantity: group(m[3]), processing: +m[4], tariff: +m[5] };
  else if ((m = SHORT.exec(t))) code = { medium: defaultMedium, channel: 0, quantity: group(m[1]), processing: +m[2], tariff: +m[3] };
  if (!code) throw new Error(`invalid OBIS code "${text}": expected A-B:C.D.E such as 1-0:1.8.0`);
  for (const [k, v] of Object.entries(code)) {
    if (v > 255) throw new Error(`invalid OBIS code "${text}": group ${k} is ${v}, above 255`);
  }
  return code;
}

export function formatObis(c: ObisCode): string {
  return `${c.medium}-${c.channel}:${c.quantity}.${c.processing}.${c.tariff}`;
}

/** Canonical "A-B:C.D.E" form of any accepted spelling. */
export function normaliseObis(text: string, defaultMedium = 1): string {
  return formatObis(parseObis(text, defaultMedium));
}

export function isObis(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    parseObis(text);
    return true;
  } catch {
    return false;
  }
}

/** The same code with another tariff group E (e.g. 1-0:1.8.0 -> 1-0:1.8.2). */
export function withTariff(text: string, tariff: number): string {
  return formatObis({ ...parseObis(text), tariff });
}

/**
 * The register a person reads first among a meter's OBIS codes, by medium: active energy import for electricity
 * (1-B:1.8.0, else its lowest tariff 1-B:1.8.E), else heat energy (6-B:1.0.0), cooling energy (5-B:1.0.0), gas
 * volume (7-B:3.0.0), cold or hot water volume (8-/9-B:1.0.0), heat cost allocator units (4-B:1.0.0); the lowest
 * channel B first. Null when there is none. Self-contained: the dashboard embeds its source in function nodes.
 */
export function mainRegister(codes: readonly string[]): string | null {
  const ranked = ['1:1.8', '6:1.0', '5:1.0', '7:3.0', '8:1.0', '9:1.0', '4:1.0'];
  let best: { rank: number; channel: number; tariff: number; code: string } | null = null;
  for (const code of codes) {
    const m = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)$/.exec(String(code));
    const rank = m ? ranked.indexOf(`${Number(m[1])}:${Number(m[3])}.${Number(m[4])}`) : -1;
    if (!m || rank < 0) continue;
    const [channel, tariff] = [Number(m[2]), Number(m[5])];
    if (!best || rank < best.rank || (rank === best.rank && (channel < best.channel || (channel === best.channel && tariff < best.tariff)))) {
      best = { rank, channel, tariff, code: String(code) };
    }
  }
  return best ? best.code : null;
}
