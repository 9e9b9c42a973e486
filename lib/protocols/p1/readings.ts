/**
 * From a parsed P1 telegram to canonical readings and a summary: the meter time (0-0:1.0.0), version
 * (1-3:0.2.8, Belgian 0-0:96.1.4), equipment id (0-0:96.1.1, Luxembourg 0-0:42.0.0, hex text),
 * tariff indicator (0-0:96.14.0), power failures (0-0:96.7.21/96.7.9 and the 1-0:99.97.0 log), voltage
 * sags and swells, the text message and each M-Bus channel (0-n:24.1.0 device type, 0-n:96.1.0/96.1.1
 * id, 0-n:24.2.1/24.2.3 value with its own timestamp, DSMR 2.2/3.0 0-n:24.3.0 with the value on the
 * next line).
 */
import type { Reading } from '../../model/reading';
import { isKnownUnit, toCanonical, unitInfo } from '../../model/units';
import { normaliseObis } from '../../model/obis';
import type { DataSet } from '../iec62056-21/datasets';
import type { P1Telegram } from './telegram';
import { DEFAULT_P1_TIME_ZONE, parseP1Timestamp } from './timestamp';

export interface P1Channel {
  /** M-Bus channel n of 0-n:... (1..4). */
  channel: number;
  /** M-Bus device type (0-n:24.1.0): 3 gas, 7 water, 4 heat, ... */
  deviceType?: number;
  medium?: 'gas' | 'water' | 'hot water' | 'heat' | 'cooling';
  equipmentId?: string;
  /** The OBIS of its reading (7-n:3.0.0 gas, 8-n:1.0.0 water, ...), the value and its own timestamp. */
  obis?: string;
  value?: number;
  unit?: string;
  time?: string;
  /** Valve position 0-n:24.4.0 (1 open, 0 closed). */
  valve?: number;
}

export interface PowerFailure {
  /** End of the failure (ISO), null when the meter's stamp is unset or invalid. */
  end: string | null;
  endRaw: string;
  durationSeconds: number;
}

export interface P1Summary {
  header: string;
  manufacturer: string;
  /** "5.0", "4.2" from 1-3:0.2.8; "e-MUCS 50217" from 0-0:96.1.4; "2.2/3.0" without both and without CRC. */
  version?: string;
  equipmentId?: string;
  /** The meter's clock (0-0:1.0.0), ISO. */
  time?: string;
  tariff?: number;
  crc?: { sent: string; computed: string; ok: boolean };
  powerFailures?: number;
  longPowerFailures?: number;
  powerFailureLog: PowerFailure[];
  voltageSags: Record<string, number>;
  voltageSwells: Record<string, number>;
  textMessage?: string;
  /** Belgian capacity tariff: each past month's peak quarter-hour demand (0-0:98.1.0). */
  monthlyPeaks?: { month: string | null; at: string | null; value: number; unit: string }[];
  channels: P1Channel[];
}

export interface P1ReadingOptions {
  meter: string;
  /** Zone of the meter's clock; default Europe/Amsterdam. */
  timeZone?: string;
  /** Time of values when the telegram has no clock (DSMR 2.2/3.0); default Date.now(). */
  now?: number;
}

const MEDIA: Record<number, { medium: P1Channel['medium']; obis: (n: number) => string }> = {
  3: { medium: 'gas', obis: (n) => `7-${n}:3.0.0` },
  7: { medium: 'water', obis: (n) => `8-${n}:1.0.0` },
  0x16: { medium: 'water', obis: (n) => `8-${n}:1.0.0` },
  6: { medium: 'hot water', obis: (n) => `9-${n}:1.0.0` },
  4: { medium: 'heat', obis: (n) => `6-${n}:1.0.0` },
  0x0c: { medium: 'heat', obis: (n) => `6-${n}:1.0.0` },
  0x0a: { medium: 'cooling', obis: (n) => `5-${n}:1.0.0` },
  0x0b: { medium: 'cooling', obis: (n) => `5-${n}:1.0.0` },
};
const PHASES: Record<string, string> = { 32: 'l1', 52: 'l2', 72: 'l3' };
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;
const OBIS_PARTS = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)$/;

const ORDER: (keyof P1Summary)[] = ['version', 'equipmentId', 'time', 'tariff', 'crc', 'powerFailures', 'longPowerFailures', 'powerFailureLog', 'voltageSags', 'voltageSwells', 'textMessage', 'monthlyPeaks', 'channels'];

/** Hex-coded text ("4B3845..." -> "K8E..."); undefined when it is not printable text. */
export function hexText(hex: string | undefined): string | undefined {
  if (!hex || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const text = Buffer.from(hex, 'hex').toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}

/** The set's OBIS code, tolerating the published typo "1-0:99:97.0" (a colon for a dot). */
function codeOf(s: DataSet): string | undefined {
  if (s.obis) return s.obis;
  const m = /^(\d+-\d+:)(.+)$/.exec(s.address);
  if (!m) return undefined;
  try { return normaliseObis(m[1] + m[2].replace(/:/g, '.')); } catch { return undefined; }
}

function numberOf(v: string | undefined): number | undefined {
  return v !== undefined && NUMBER.test(v.trim()) ? Number(v) : undefined;
}

/** Readings (electricity registers and M-Bus channels with a value and a unit) and the telegram summary. */
export function toP1Readings(t: P1Telegram, opts: P1ReadingOptions): { readings: Reading[]; telegram: P1Summary } {
  const tz = opts.timeZone || DEFAULT_P1_TIME_ZONE;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const summary: P1Summary = { header: t.header, manufacturer: t.manufacturer, powerFailureLog: [], voltageSags: {}, voltageSwells: {}, channels: [] };
  if (t.crc) summary.crc = t.crc;
  const channels = new Map<number, P1Channel>();
  const stamps = new Map<number, number | null>();
  const channel = (n: number) => {
    let c = channels.get(n);
    if (!c) channels.set(n, (c = { channel: n }));
    return c;
  };
  const codes = t.sets.map(codeOf);
  let clock: number | null = null;
  for (let i = 0; i < t.sets.length; i++) {
    const code = codes[i];
    const v = t.sets[i].values;
    if (code === '0-0:1.0.0') clock = parseP1Timestamp(v[0]?.value ?? '', tz);
  }
  const time = clock ?? opts.now ?? Date.now();
  if (clock !== null) summary.time = iso(clock)!;
  const readings: Reading[] = [];
  const push = (obis: string, value: number, unit: string, at: number) => {
    const c = unitInfo(unit).canonical === unit ? { value, unit } : toCanonical(value, unit);
    readings.push({ meter: opts.meter, time: at, obis, value: c.value, unit: c.unit });
  };

  for (let i = 0; i < t.sets.length; i++) {
    const set = t.sets[i];
    const code = codes[i];
    const v = set.values;
    const parts = code ? OBIS_PARTS.exec(code) : null;
    if (!code || !parts) continue;
    const a = +parts[1], b = +parts[2], c = +parts[3], d = +parts[4], e = +parts[5];
    const first = v[0]?.value ?? '';
    if (code === '1-3:0.2.8') summary.version = first.length === 2 ? `${first[0]}.${first[1]}` : first;
    else if (code === '0-0:96.1.4' && !summary.version) summary.version = `e-MUCS ${first}`;
    else if (code === '0-0:96.1.1' || code === '0-0:42.0.0') summary.equipmentId = hexText(first) ?? first;
    else if (code === '0-0:96.14.0') summary.tariff = numberOf(first);
    else if (code === '0-0:96.7.21') summary.powerFailures = numberOf(first);
    else if (code === '0-0:96.7.9') summary.longPowerFailures = numberOf(first);
    else if (code === '0-0:96.13.0') { if (first) summary.textMessage = hexText(first.replace(/\s+/g, '')) ?? first; }
    else if (code === '1-0:99.97.0') {
      for (let k = 2; k + 1 < v.length; k += 2) {
        const end = parseP1Timestamp(v[k].value, tz);
        summary.powerFailureLog.push({ end: iso(end), endRaw: v[k].value, durationSeconds: Number(v[k + 1].value) });
      }
    } else if (code === '0-0:98.1.0') {
      // (count)(1-0:1.6.0)(1-0:1.6.0) then per month: (start of month)(time of the peak)(value*kW)
      summary.monthlyPeaks = [];
      for (let k = 3; k + 2 < v.length; k += 3) {
        const value = numberOf(v[k + 2].value);
        if (value !== undefined && v[k + 2].unit) summary.monthlyPeaks.push({ month: iso(parseP1Timestamp(v[k].value, tz)), at: iso(parseP1Timestamp(v[k + 1].value, tz)), value, unit: v[k + 2].unit! });
      }
    } else if (a === 1 && b === 0 && d === 32 && c in PHASES) summary.voltageSags[PHASES[c]] = numberOf(first) ?? 0;
    else if (a === 1 && b === 0 && d === 36 && c in PHASES) summary.voltageSwells[PHASES[c]] = numberOf(first) ?? 0;
    else if (a === 0 && b > 0 && c === 24 && d === 1 && e === 0) channel(b).deviceType = numberOf(first);
    else if (a === 0 && b > 0 && c === 96 && d === 1 && (e === 0 || e === 1)) { if (first) channel(b).equipmentId = hexText(first) ?? first; }
    else if (a === 0 && b > 0 && c === 24 && d === 4 && e === 0) channel(b).valve = numberOf(first);
    else if (a === 0 && b > 0 && c === 24 && d === 2) {
      // 0-n:24.2.1 / 24.2.3 (stamp)(value*unit)
      const ch = channel(b);
      const value = numberOf(v[1]?.value);
      if (value !== undefined && v[1].unit && isKnownUnit(v[1].unit)) { ch.value = value; ch.unit = v[1].unit; stamps.set(b, parseP1Timestamp(first, tz)); }
    } else if (a === 0 && b > 0 && c === 24 && d === 3 && e === 0) {
      // DSMR 2.2/3.0: (stamp)(status)(period)(count)(OBIS)(unit), the value alone on the next line
      const next = t.sets[i + 1];
      const value = next && next.address === '' ? numberOf(next.values[0]?.value) : undefined;
      const unit = v[5]?.value;
      if (value !== undefined && unit && isKnownUnit(unit)) { const ch = channel(b); ch.value = value; ch.unit = unit; stamps.set(b, parseP1Timestamp(first, tz)); }
    } else if (a === 1 && c > 0 && c < 96) {
      // Electricity: the first value with a unit; a timestamp before it (maximum demand) is its time.
      const k = v.findIndex((x) => x.unit !== undefined && isKnownUnit(x.unit) && NUMBER.test(x.value.trim()));
      if (k < 0) continue;
      const stamp = k > 0 ? parseP1Timestamp(v[k - 1].value, tz) : null;
      push(code, Number(v[k].value), v[k].unit!, stamp ?? time);
    }
  }
  if (!summary.version && !t.crc) summary.version = '2.2/3.0';

  for (const ch of [...channels.values()].sort((x, y) => x.channel - y.channel)) {
    const at = stamps.get(ch.channel);
    const media = ch.deviceType !== undefined ? MEDIA[ch.deviceType] : undefined;
    if (media) ch.medium = media.medium;
    if (ch.value !== undefined && ch.unit) {
      const when = at ?? time; // a channel stamp the meter left unset: the telegram's time
      ch.obis = media ? media.obis(ch.channel) : `0-${ch.channel}:24.2.1`;
      ch.time = iso(when)!;
      push(ch.obis, ch.value, ch.unit, when);
    }
    summary.channels.push(ch);
  }
  // The fields in reading order; absent ones left out.
  const ordered = { header: summary.header, manufacturer: summary.manufacturer } as P1Summary;
  for (const k of ORDER) if (summary[k] !== undefined) (ordered as unknown as Record<string, unknown>)[k] = summary[k];
  return { readings, telegram: ordered };
}
