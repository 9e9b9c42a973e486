/** Schedule checks for validateTariff: day bands cover the day, seasons cover the year, period names. */
import { minutesOf, monthDayIndex } from './calendar';
import { MYEMS_PERIOD_ALIASES, TOU_PERIODS, type Season, type TimeBand, type TouPeriod } from './types';

interface ProblemSink { add(field: string, message: string): void }

/** A TouPeriod from its name or a MyEMS alias (case-insensitive), else undefined. */
export function normalisePeriod(v: unknown): TouPeriod | undefined {
  if (typeof v !== 'string') return undefined;
  const k = v.trim().toLowerCase();
  if ((TOU_PERIODS as readonly string[]).includes(k)) return k as TouPeriod;
  return MYEMS_PERIOD_ALIASES[k];
}

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The bands of one day type must tile 00:00-24:00: each from < to, no gap, no overlap. */
export function checkBands(c: ProblemSink, bands: TimeBand[], f: string): void {
  const parsed: { from: number; to: number; i: number }[] = [];
  bands.forEach((b, i) => {
    const from = minutesOf(b.from);
    const to = minutesOf(b.to);
    if (from === undefined || from === 1440) c.add(`${f}[${i}].from`, `expected a time "HH:MM" before 24:00, got ${JSON.stringify(b.from)}`);
    if (to === undefined || to === 0) c.add(`${f}[${i}].to`, `expected a time "HH:MM" after 00:00 (24:00 for the end of the day), got ${JSON.stringify(b.to)}`);
    if (from === undefined || to === undefined) return;
    if (to <= from) c.add(`${f}[${i}].to`, `must be after from ${b.from}, got ${JSON.stringify(b.to)}`);
    else parsed.push({ from, to, i });
  });
  if (parsed.length !== bands.length) return;
  parsed.sort((a, b) => a.from - b.from);
  let at = 0;
  for (const p of parsed) {
    if (p.from > at) c.add(`${f}[${p.i}].from`, `gap: nothing covers ${hhmm(at)}-${hhmm(p.from)}, got ${JSON.stringify(bands[p.i].from)}`);
    else if (p.from < at) c.add(`${f}[${p.i}].from`, `overlap: ${hhmm(p.from)}-${hhmm(Math.min(at, p.to))} is covered twice, got ${JSON.stringify(bands[p.i].from)}`);
    at = Math.max(at, p.to);
  }
  if (parsed.length && at < 1440) {
    const last = parsed[parsed.length - 1];
    c.add(`${f}[${last.i}].to`, `gap: nothing covers ${hhmm(at)}-24:00, got ${JSON.stringify(bands[last.i].to)}`);
  }
}

/** The indices (0..365 of a leap year) a season covers; from == to means the whole year. */
export function seasonDays(s: Season): number[] {
  const from = monthDayIndex(s.from)!;
  const to = monthDayIndex(s.to)!;
  const days: number[] = [];
  let d = from;
  do {
    days.push(d);
    d = (d + 1) % 366;
  } while (d !== to);
  return days;
}

const MMDD = Array.from({ length: 366 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(5, 10));

/** Every day of the year in exactly one season. */
export function checkSeasonCoverage(c: ProblemSink, seasons: Season[], f: string): void {
  const count = new Array<number>(366).fill(0);
  let ok = true;
  seasons.forEach((s, i) => {
    for (const k of ['from', 'to'] as const) {
      if (monthDayIndex(s[k]) === undefined) {
        c.add(`${f}[${i}].${k}`, `expected a month-day "MM-DD", got ${JSON.stringify(s[k])}`);
        ok = false;
      }
    }
  });
  if (!ok || !seasons.length) return;
  for (const s of seasons) for (const d of seasonDays(s)) count[d]++;
  const missing = count.findIndex((n) => n === 0);
  const twice = count.findIndex((n) => n > 1);
  if (missing >= 0) c.add(f, `seasons must cover every day of the year: no season covers ${MMDD[missing]}`);
  if (twice >= 0) c.add(f, `seasons must not overlap: ${MMDD[twice]} is in ${count[twice]} seasons`);
}
