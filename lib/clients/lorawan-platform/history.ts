/**
 * A meter's history over a time span from comApi.getMeterReadings (digest 2.6): the span is read in
 * windows of at most WINDOW_MS, newest first, each window in pages of PAGE_SIZE rows (the documented
 * maximum, 1000) until a page comes back short (digest 2.9: pageTotal is ambiguous), and stops once
 * `maxRows` rows of the meter are in hand. Rows carry the register at the uplink (`readings`, where the
 * platform sends it) or only the frozen reading (`freezeReading`: the register at the local midnight
 * before meterReadingtime, documented): the first gives a reading at meterReadingtime, the second one
 * at that midnight.
 */
import type { Reading } from '../../model/reading';
import { BACKFILL_CAP, backfillAnswer } from '../../model/backfill-span';
import type { Body, LorawanPlatformClient, Row } from './client';
import { formatPlatformTime, platformTime, toReading } from './readings';

export const PAGE_SIZE = 1000;
/** A window of the span asked in one paged query (the document sets no limit: a week keeps pages few). */
export const WINDOW_MS = 7 * 86_400_000;

export interface HistoryQuery {
  areaId: number | string;
  /** Narrows the platform's fuzzy search (a devEui or meter address). */
  searchContent?: string;
  energyType?: string;
  /** Epoch ms: rows with from < time <= to. */
  from: number;
  to: number;
  /** Keep only the rows of this meter (a fuzzy search also matches others). */
  matches?: (row: Row) => boolean;
  /** Most rows to collect, newest kept (default 10,000). */
  maxRows?: number;
  pageSize?: number;
  windowMs?: number;
}

export interface HistoryResult { rows: Row[]; requests: number; truncated: boolean }

/** The meter's rows of getMeterReadings in (from, to], newest first, bounded in requests and rows. */
export async function readHistory(client: LorawanPlatformClient, q: HistoryQuery): Promise<HistoryResult> {
  const pageSize = q.pageSize ?? PAGE_SIZE;
  const windowMs = q.windowMs ?? WINDOW_MS;
  const maxRows = q.maxRows ?? 10_000;
  const rows: Row[] = [];
  const seen = new Set<string>();
  let requests = 0;
  let truncated = false;
  for (let to = q.to; to > q.from && !truncated; to -= windowMs) {
    const from = Math.max(q.from, to - windowMs);
    const params: Body = {
      areaId: q.areaId, searchContent: q.searchContent, energyType: q.energyType,
      startDate: formatPlatformTime(from, client.utcOffsetMin), endDate: formatPlatformTime(to, client.utcOffsetMin),
    };
    const inWindow: Row[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      const body = await client.call('getMeterReadings', { ...params, pageNumber, pageSize });
      requests++;
      const values = (Array.isArray(body.values) ? body.values : Array.isArray(body.data) ? body.data : []) as Row[];
      for (const r of values) {
        let t: number;
        try { t = platformTime(r.meterReadingtime, client.utcOffsetMin); } catch { continue; }
        const key = `${r.id ?? ''}@${t}@${r.deveui ?? r.archivesAddress ?? ''}`;
        if (t <= from || t > to || seen.has(key) || (q.matches && !q.matches(r))) continue;
        seen.add(key);
        inWindow.push(r);
      }
      if (values.length < pageSize || pageNumber * pageSize >= 100_000) break;
    }
    inWindow.sort((a, b) => platformTime(b.meterReadingtime, client.utcOffsetMin) - platformTime(a.meterReadingtime, client.utcOffsetMin));
    for (const r of inWindow) {
      if (rows.length >= maxRows) { truncated = true; break; }
      rows.push(r);
    }
  }
  return { rows, requests, truncated };
}

const startOfLocalDay = (t: number, offsetMin: number) => {
  const local = t + offsetMin * 60_000;
  return local - (((local % 86_400_000) + 86_400_000) % 86_400_000) - offsetMin * 60_000;
};

/**
 * History rows -> Readings of EMS meter `meterId`: the uplink's register at meterReadingtime, or, where a
 * row has only freezeReading, that register at the local midnight it was frozen. Unparsable rows are skipped.
 */
export function historyReadings(rows: readonly Row[], meterId: string, energyType: unknown, utcOffsetMin = 0): Reading[] {
  const out: Reading[] = [];
  for (const r of rows) {
    try {
      const t = platformTime(r.meterReadingtime, utcOffsetMin);
      const type = r.energyType ?? energyType;
      if (r.readings !== undefined && r.readings !== '') out.push(toReading(meterId, type, r.readings, t));
      else if (r.freezeReading !== undefined && r.freezeReading !== '') out.push(toReading(meterId, type, r.freezeReading, startOfLocalDay(t, utcOffsetMin)));
    } catch { /* a row without a time or a number gives no reading */ }
  }
  return out;
}

/** A backfill of one platform meter (number_meter: devEui, meter address or id) for (from, to]. */
export async function readPlatformBackfill(client: LorawanPlatformClient, meterId: string, number: string, span: { from: number; to: number }, cap = BACKFILL_CAP) {
  const archive = await client.findMeter(number);
  const devEui = String(archive.deveui ?? archive.devEui ?? '').toLowerCase();
  const address = String(archive.serialnumber ?? '');
  const areaId = (archive.areaOrgId ?? archive.areaId ?? archive.areaid ?? (await client.areaIds())[0]) as number | string;
  const matches = (r: Row) => (devEui !== '' && String(r.deveui ?? r.devEui ?? '').toLowerCase() === devEui) || (address !== '' && String(r.archivesAddress ?? '') === address);
  const h = await readHistory(client, { areaId, searchContent: devEui || address, from: span.from, to: span.to, matches, maxRows: cap + 1 });
  const answer = backfillAnswer(historyReadings(h.rows, meterId, archive.energyType, client.utcOffsetMin), span, cap);
  return { readings: answer.readings, truncated: answer.truncated || h.truncated, requests: h.requests, archive };
}
