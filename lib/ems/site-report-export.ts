/**
 * The site report as one table (CSV through lib/csv's csv-stringify writer, XLSX through write-excel-file):
 * a line per category total, per step of its series, per base period total, per meter, per master meter's
 * remainder and per child space, told apart by `section`. Amounts are the report's exact decimals (XLSX
 * cells are numbers).
 */
import { writeCsv, type CsvValue } from '../csv';
import type { SiteReport } from './site-report';

export const SITE_COLUMNS = ['section', 'category', 'unit', 'id', 'name', 'date', 'date_to', 'consumption', 'kgce', 'kgco2e', 'per_m2', 'cost', 'currency', 'note'] as const;
type Line = Partial<Record<typeof SITE_COLUMNS[number], string | null>>;

export function siteReportLines(r: SiteReport): Line[] {
  const lines: Line[] = [];
  for (const c of r.categories) {
    const cost = c.cost ? Object.entries(c.cost) : [];
    lines.push({
      section: 'total', category: c.id, unit: c.unit, id: r.folder._id, name: r.folder.name, date: r.from, date_to: r.to,
      consumption: c.consumption, kgce: c.kgce, kgco2e: c.kgco2e, per_m2: c.per_m2?.consumption ?? null,
      cost: cost.map(([, v]) => v).join(' '), currency: cost.map(([k]) => k).join(' '),
      note: `peak ${c.peak.consumption} at ${c.peak.date}; average ${c.average}; load factor ${c.load_factor ?? '-'}`,
    });
    if (c.base && r.base) {
      lines.push({
        section: 'base', category: c.id, unit: c.unit, id: r.folder._id, name: r.folder.name, date: r.base.from, date_to: r.base.to,
        consumption: c.base.consumption, kgce: c.base.kgce, kgco2e: c.base.kgco2e,
        note: `change ${c.base.consumption_change.change} (${c.base.consumption_change.change_pct ?? '-'} %)`,
      });
    }
    for (const s of c.series) lines.push({ section: 'step', category: c.id, unit: c.unit, date: s.date, date_to: s.date_to, consumption: s.consumption, kgce: s.kgce, kgco2e: s.kgco2e });
  }
  for (const m of r.meters) {
    lines.push({
      section: 'meter', category: m.category, unit: m.unit, id: m.meter, name: m.name, consumption: m.consumption, kgce: m.kgce, kgco2e: m.kgco2e,
      cost: m.cost?.amount ?? null, currency: m.cost?.currency ?? null,
      note: [m.virtual ? 'virtual' : '', m.counted ? 'counted' : 'not counted', m.parent_meter ? `sub-meter of ${m.parent_meter}` : '', ...m.flags].filter(Boolean).join('; '),
    });
  }
  for (const s of r.submeters) {
    lines.push({
      section: 'remainder', category: s.category, unit: s.unit, id: s.meter, name: `${s.name} (unmetered remainder)`,
      consumption: s.remainder.consumption, kgce: s.remainder.kgce, kgco2e: s.remainder.kgco2e,
      note: `${s.name} ${s.consumption} minus sub-meters ${s.submeters_total.consumption}${s.remainder.negative ? '; NEGATIVE' : ''}`,
    });
  }
  for (const sp of r.spaces) {
    for (const c of sp.categories) lines.push({ section: 'space', category: c.id, unit: c.unit, id: sp._id, name: sp.name, consumption: c.consumption, kgce: c.kgce, kgco2e: c.kgco2e, per_m2: c.per_m2?.consumption ?? null });
  }
  return lines;
}

export function siteReportCsv(r: SiteReport): string {
  return writeCsv([...SITE_COLUMNS], siteReportLines(r).map((l) => SITE_COLUMNS.map((k) => (l[k] ?? '') as CsvValue)));
}

const NUMERIC = new Set(['consumption', 'kgce', 'kgco2e', 'per_m2']);

export async function siteReportXlsx(r: SiteReport): Promise<Buffer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const writeXlsx = require('write-excel-file/node').default as (rows: unknown[][]) => { toBuffer(): Promise<Buffer> };
  const rows: unknown[][] = [[...SITE_COLUMNS]];
  for (const l of siteReportLines(r)) {
    rows.push(SITE_COLUMNS.map((k) => {
      const v = l[k];
      if (v === null || v === undefined || v === '') return null;
      return NUMERIC.has(k) ? Number(v) : v;
    }));
  }
  return writeXlsx(rows).toBuffer();
}
