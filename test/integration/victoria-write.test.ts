/**
 * Writing readings to VictoriaMetrics (Debian's victoria-metrics, started in a temp dir) the way the
 * influxdb store writes to InfluxDB 2.x: encodeReadings() lines through @influxdata/influxdb-client's
 * WriteApi (POST /api/v2/write, precision ms), read back with VictoriaMetrics' export API
 * (GET /api/v1/export, one JSON line per series; the metric name is `<measurement>_<field>`, tags
 * become labels).
 *
 * What VictoriaMetrics does (1.79.5), as this test checks it:
 * - no label for the org or bucket of /api/v2/write (only /write?db= adds a `db` label);
 * - a second write of the same points is stored again (the export has every sample twice) unless
 *   the server runs with -dedup.minScrapeInterval, which keeps one sample per series and timestamp;
 * - string fields (the events' message and source) are not stored as text.
 *
 * Skips when victoria-metrics is missing (EMS_VICTORIA_METRICS overrides the path); fails instead
 * when CI or EMS_REQUIRE_PEERS is set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Reading } from '../../lib/model/reading';
import { Quality } from '../../lib/model/quality';
import type { EmsEvent } from '../../lib/store/types';
import { HOUR_MS, MINUTE_MS } from '../../lib/model/time';
import { encodeEvents, encodeReadings } from '../../lib/store/influxdb/line-protocol';
import { startVictoriaMetrics, victoriaMetricsMissing, type RunningService } from '../fixtures/services';
import { missingPeer } from '../fixtures/sim/peers';

const opts = missingPeer(victoriaMetricsMissing());

let vm: RunningService | undefined;
let vmDedup: RunningService | undefined;

function buildReadings(): Reading[] {
  const out: Reading[] = [];
  let imp = 15234.5;
  let heat = 812.125;
  const from = Date.UTC(2026, 9, 24);
  for (let i = 0; i < 72; i++) {
    const t = from + i * HOUR_MS;
    imp = Math.round((imp + 0.25 + (i % 7) * 0.173) * 1000) / 1000;
    out.push({ meter: 'm1', time: t, obis: '1-0:1.8.0', value: imp, unit: 'kWh', ...(i % 11 === 3 ? { quality: Quality.ESTIMATED } : {}) });
    for (let q = 0; q < 4; q++) {
      out.push({ meter: 'm1', time: t + q * 15 * MINUTE_MS + 7_250, obis: '1-0:16.7.0', value: Math.round(Math.sin(i + q) * 3000) / 1000, unit: 'kW' });
    }
    heat = Math.round((heat + (i % 5) * 0.111) * 1000) / 1000;
    out.push({ meter: 'm 2,x=y', time: t + 5 * MINUTE_MS, obis: '6-0:1.0.0', value: heat, unit: 'kWh', ...(i % 13 === 0 ? { quality: Quality.SUSPECT | Quality.CLOCK_ADJUSTED } : {}) });
    if (i % 2 === 0) out.push({ meter: 'm 2,x=y', time: t + 5 * MINUTE_MS, obis: '0-0:96.5.0', value: i % 4, unit: '' });
  }
  return out;
}

const READINGS = buildReadings();

const EVENTS: EmsEvent[] = [
  { time: Date.UTC(2026, 9, 25, 1, 30), level: 'warning', kind: 'poll-failed', message: 'm1: no answer', meter: 'm1', source: 'node:4f2a' },
  { time: Date.UTC(2026, 9, 26, 8, 0), level: 'info', kind: 'login', message: "user 'admin' logged in" },
];

async function write(url: string, lines: string[]): Promise<void> {
  const api = new InfluxDB({ url }).getWriteApi('org', 'bucket', 'ms', { maxRetries: 0, batchSize: 500 });
  api.writeRecords(lines);
  await api.flush();
  await api.close();
}

interface ExportLine { metric: Record<string, string>; values: number[]; timestamps: number[] }

/** Every series matching `match`, after making just-written samples searchable. */
async function exportSeries(url: string, match: string): Promise<ExportLine[]> {
  const flushed = await fetch(`${url}/internal/force_flush`);
  await flushed.arrayBuffer();
  assert.equal(flushed.status, 200);
  const res = await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ExportLine);
}

/** The samples we expect per series: metric labels -> [timestamp, value] pairs in time order. */
function expectedSeries(readings: readonly Reading[]): Map<string, { metric: Record<string, string>; samples: [number, number][] }> {
  const out = new Map<string, { metric: Record<string, string>; samples: [number, number][] }>();
  for (const r of readings) {
    for (const [field, value] of [['value', r.value], ['quality', r.quality ?? 0]] as const) {
      const metric: Record<string, string> = { __name__: `ems_reading_${field}`, meter: r.meter, obis: r.obis };
      if (r.unit !== '') metric.unit = r.unit;
      const key = labelKey(metric);
      let s = out.get(key);
      if (!s) out.set(key, (s = { metric, samples: [] }));
      s.samples.push([r.time, value]);
    }
  }
  for (const s of out.values()) s.samples.sort((a, b) => a[0] - b[0]);
  return out;
}

function labelKey(metric: Record<string, string>): string {
  return JSON.stringify(Object.keys(metric).sort().map((k) => [k, metric[k]]));
}

function assertSeries(got: ExportLine[], readings: readonly Reading[], copies: number): void {
  const want = expectedSeries(readings);
  assert.deepEqual(got.map((s) => labelKey(s.metric)).sort(), [...want.keys()].sort(), 'the series (metric name and labels)');
  for (const s of got) {
    const w = want.get(labelKey(s.metric))!;
    const samples = s.timestamps.map((t, i) => [t, s.values[i]] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const expected = w.samples.flatMap((p) => Array.from({ length: copies }, () => p));
    assert.deepEqual(samples, expected, `samples of ${JSON.stringify(s.metric)}`);
  }
}

before(async () => {
  if (opts.skip) return;
  [vm, vmDedup] = await Promise.all([startVictoriaMetrics(), startVictoriaMetrics({ flags: ['-dedup.minScrapeInterval=1ms'] })]);
});

after(async () => {
  await Promise.all([vm?.stop(), vmDedup?.stop()]);
  await vm?.stop(); // twice: must be harmless
});

const MATCH = '{__name__=~"ems_reading.*"}';

test('every reading arrives with its value, timestamp and labels (no org/bucket label)', opts, async () => {
  await write(vm!.url, encodeReadings(READINGS));
  const got = await exportSeries(vm!.url, MATCH);
  assertSeries(got, READINGS, 1);
  for (const s of got) {
    assert.ok(!('db' in s.metric) && !('bucket' in s.metric) && !('org' in s.metric), `unexpected label in ${JSON.stringify(s.metric)}`);
  }
});

test('a second write of the same points: duplicated without deduplication, once with -dedup.minScrapeInterval', opts, async (t) => {
  await write(vm!.url, encodeReadings(READINGS));
  const twice = await exportSeries(vm!.url, MATCH);
  const samples = twice.reduce((n, s) => n + s.timestamps.length, 0);
  t.diagnostic(`without -dedup.minScrapeInterval: ${samples} samples exported for ${READINGS.length * 2} written once (value + quality per reading)`);
  assertSeries(twice, READINGS, 2);

  await write(vmDedup!.url, encodeReadings(READINGS));
  await write(vmDedup!.url, encodeReadings(READINGS));
  assertSeries(await exportSeries(vmDedup!.url, MATCH), READINGS, 1);
});

test('events: labels arrive, string fields are not kept as text', opts, async (t) => {
  await write(vm!.url, encodeEvents(EVENTS));
  const got = await exportSeries(vm!.url, '{__name__=~"ems_event.*"}');
  t.diagnostic(`events as exported: ${JSON.stringify(got)}`);
  for (const s of got) {
    assert.match(s.metric.__name__, /^ems_event_(message|source)$/);
    for (const v of s.values) assert.equal(typeof v, 'number');
  }
  const messages = got.filter((s) => s.metric.__name__ === 'ems_event_message').map((s) => ({ level: s.metric.level, kind: s.metric.kind, meter: s.metric.meter }));
  assert.deepEqual(messages.sort((a, b) => a.kind.localeCompare(b.kind)), [
    { level: 'info', kind: 'login', meter: undefined },
    { level: 'warning', kind: 'poll-failed', meter: 'm1' },
  ]);
});
