/**
 * The poll scheduling path of ems-poll-schedule (PollScheduler + PollJobs + the node's status line) at fleet
 * scale, pure lib, on a fake clock: N meters, every poll answered after a simulated latency.
 *   node dist/bench/poll-scheduler.js            (1,000 meters at 10 s and 10,000 at 60 s)
 * Environment: BENCH_FLEETS ("1000x10,10000x60": meters x interval s), BENCH_SPAN (simulated seconds, default
 * two intervals), BENCH_LATENCY_MS (answer latency, 200).
 * Prints CPU per simulated second and per poll, polls, lateness p50/p99 (start minus due, on the fake clock).
 */
import { checkMeterDefinition } from '../lib/ems/meter-definition';
import { PollJobs } from '../lib/ems/poll-jobs';
import type { MeterRecord } from '../lib/ems/registry';
import { PollScheduler } from '../lib/ems/schedule';
import { HeapClock } from '../test/fixtures/fake-clock';

const T0 = Date.UTC(2026, 10, 16, 0, 0);

function records(n: number, interval: number): MeterRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: `meter-${i}`, folder_id: 'f1', created_at: 0, updated_at: 0,
    // Ten meters behind each Modbus gateway (unit ids 1..10).
    definition: checkMeterDefinition({
      name: `Meter ${i}`, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: interval,
      ip_address: `10.${(i / 2560) | 0}.${((i / 10) | 0) % 256}.1`, port: 502, connection_address: String((i % 10) + 1),
    }),
  }));
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

async function run(n: number, interval: number, spanS: number, latency: number) {
  const clock = new HeapClock(T0);
  const list = records(n, interval);
  const byId = new Map(list.map((r) => [r._id, r]));
  const late: number[] = [];
  let results = 0;
  let seq = 0;
  let statusTexts = 0;
  // eslint-disable-next-line prefer-const
  let scheduler: PollScheduler;
  const jobs = new PollJobs({
    send: (msg) => {
      late.push(msg.poll.started - msg.poll.due);
      clock.setTimeout(() => jobs.answer(msg.poll.id, null), latency);
    },
    addEvent: () => undefined,
    newId: () => `p${++seq}`,
    clock,
    onResult: () => { results++; showStatus(); },
  });
  // The node's status line after every result, as nodes/poll-schedule did.
  function showStatus(): void {
    const ids = [...byId.keys()];
    const states = ids.map((id) => jobs.state(id));
    const running = states.filter((s) => s.running).length;
    const failing = states.filter((s) => s.last && !s.last.ok).length;
    const next = ids.map((id) => scheduler.nextDue(id)).filter((t): t is number => t !== null).sort((a, b) => a - b)[0];
    const at = next === undefined ? 'none' : new Date(next).toLocaleTimeString('en-GB', { timeZone: 'UTC', hour12: false });
    if (`${ids.length} meters, ${running ? `polling ${running}` : `next ${at}`}${failing ? `, ${failing} failing` : ''}`) statusTexts++;
  }
  scheduler = new PollScheduler((m, due) => jobs.start(byId.get(m.id)!, due), { clock, timeZone: 'UTC' });
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  scheduler.set(list.map((r) => ({ id: r._id, definition: r.definition })));
  await clock.advance(spanS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  scheduler.stop();
  jobs.stop();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  late.sort((a, b) => a - b);
  return {
    meters: n, interval_s: interval, span_s: spanS, polls: late.length, results, status_texts: statusTexts,
    cpu_ms: Math.round(cpuMs), cpu_ms_per_sim_s: +(cpuMs / spanS).toFixed(2), cpu_us_per_poll: Math.round((cpuMs * 1000) / Math.max(1, late.length)),
    share_of_core: +(cpuMs / 1000 / spanS).toFixed(4), wall_ms: Math.round(wall),
    late_p50_ms: quantile(late, 0.5), late_p99_ms: quantile(late, 0.99), rss_mb: Math.round(process.memoryUsage().rss / 1e6),
  };
}

async function main(): Promise<void> {
  const fleets = (process.env.BENCH_FLEETS ?? '1000x10,10000x60').split(',').map((f) => f.split('x').map(Number));
  const latency = Number(process.env.BENCH_LATENCY_MS ?? 200);
  const out = [];
  for (const [n, interval] of fleets) {
    const span = Number(process.env.BENCH_SPAN ?? 2 * interval);
    const r = await run(n, interval, span, latency);
    console.log(`${n} meters at ${interval} s, ${span} s simulated: ${r.polls} polls, ${r.cpu_ms} ms CPU = ${r.cpu_ms_per_sim_s} ms per simulated s (${(r.share_of_core * 100).toFixed(2)}% of a core), ${r.cpu_us_per_poll} us per poll, late p50 ${r.late_p50_ms} ms p99 ${r.late_p99_ms} ms`);
    out.push(r);
  }
  console.log(JSON.stringify(out));
}

void main();
