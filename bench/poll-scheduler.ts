/**
 * The poll scheduling path of ems-poll-schedule (PollScheduler + PollJobs + the node's status figures after
 * every result) at fleet scale, pure lib, on a fake clock: N meters, every poll answered after a simulated
 * latency. Side by side with a bare baseline on the same clock: one timer per meter, no bounds, no status.
 *   node dist/bench/poll-scheduler.js            (1,000 meters at 10 s and 10,000 at 60 s)
 * Environment: BENCH_FLEETS ("1000x10,10000x60": meters x interval s), BENCH_SPAN (simulated seconds, default
 * two intervals), BENCH_LATENCY_MS (answer latency, 200), BENCH_REAL_S (also run the EMS path on the real clock for
 * this many seconds per fleet, default 0: CPU share and lateness of real timers on this machine).
 * Prints CPU per simulated second and per poll, the scheduler's work steps per poll, lateness p50/p99 (start
 * minus due on the fake clock) and the CPU ratio ems/bare. Before this scheduler (commit 3bbade9) the same
 * harness measured 10,000 meters at 60 s at 124% of a core (7 ms per poll) and 1,000 at 10 s at 8.4%.
 */
import { checkMeterDefinition } from '../lib/ems/meter-definition';
import { PollJobs } from '../lib/ems/poll-jobs';
import type { MeterRecord } from '../lib/ems/registry';
import { PollScheduler } from '../lib/ems/poll-scheduler';
import { nextPollTime } from '../lib/ems/schedule';
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

function measure(spanS: number, polls: number, late: number[], cpu0: NodeJS.CpuUsage) {
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  late.sort((a, b) => a - b);
  return {
    polls, cpu_ms: Math.round(cpuMs), cpu_ms_per_sim_s: +(cpuMs / spanS).toFixed(2), cpu_us_per_poll: Math.round((cpuMs * 1000) / Math.max(1, polls)),
    share_of_core: +(cpuMs / 1000 / spanS).toFixed(4), late_p50_ms: quantile(late, 0.5), late_p99_ms: quantile(late, 0.99),
  };
}

/** The EMS path: scheduler, poll jobs, and the status figures the node reads after every result. */
async function runEms(list: MeterRecord[], spanS: number, latency: number) {
  const clock = new HeapClock(T0);
  const byId = new Map(list.map((r) => [r._id, r]));
  const late: number[] = [];
  let seq = 0;
  let statusTexts = 0;
  const jobs = new PollJobs({
    send: (msg) => {
      late.push(msg.poll.started - msg.poll.due);
      clock.setTimeout(() => jobs.answer(msg.poll.id, null), latency);
    },
    addEvent: () => undefined,
    newId: () => `p${++seq}`,
    clock,
    onResult: () => {
      const { running, failing } = jobs.summary();
      const { waiting } = scheduler.getStats();
      if (`${byId.size} meters, ${running} ${failing} ${waiting} ${scheduler.firstDue()}`) statusTexts++;
    },
  });
  const scheduler = new PollScheduler((m, due) => jobs.start(byId.get(m.id)!, due), { clock, timeZone: 'UTC' });
  const cpu0 = process.cpuUsage();
  scheduler.set(list.map((r) => ({ id: r._id, definition: r.definition })));
  const work0 = scheduler.getStats().work;
  await clock.advance(spanS * 1000);
  const stats = scheduler.getStats();
  const r = measure(spanS, late.length, late, cpu0);
  scheduler.stop();
  jobs.stop();
  return { ...r, status_texts: statusTexts, work_per_poll: +((stats.work - work0) / Math.max(1, stats.started)).toFixed(2), skipped: stats.skippedBusy };
}

/** The EMS path on real timers for `seconds`: CPU share of a core and how late polls start after their due time. */
async function runReal(list: MeterRecord[], seconds: number, latency: number) {
  const byId = new Map(list.map((r) => [r._id, r]));
  const late: number[] = [];
  let seq = 0;
  const jobs = new PollJobs({
    send: (msg) => {
      late.push(msg.poll.started - msg.poll.due);
      setTimeout(() => jobs.answer(msg.poll.id, null), latency);
    },
    addEvent: () => undefined,
    newId: () => `p${++seq}`,
    onResult: () => { jobs.summary(); scheduler.getStats(); scheduler.firstDue(); },
  });
  const scheduler = new PollScheduler((m, due) => jobs.start(byId.get(m.id)!, due), { timeZone: 'UTC' });
  const cpu0 = process.cpuUsage();
  scheduler.set(list.map((r) => ({ id: r._id, definition: r.definition })));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const r = measure(seconds, late.length, late, cpu0);
  scheduler.stop();
  jobs.stop();
  return r;
}

/** The baseline: one timer per meter re-armed at its next due time, the answer after the latency, nothing else. */
async function runBare(list: MeterRecord[], spanS: number, latency: number) {
  const clock = new HeapClock(T0);
  const late: number[] = [];
  const arm = (r: MeterRecord) => {
    const due = nextPollTime(r._id, r.definition, clock.now(), 'UTC');
    if (due !== null) clock.setTimeout(() => { late.push(clock.now() - due); clock.setTimeout(() => undefined, latency); arm(r); }, due - clock.now());
  };
  const cpu0 = process.cpuUsage();
  for (const r of list) arm(r);
  await clock.advance(spanS * 1000);
  return measure(spanS, late.length, late, cpu0);
}

async function main(): Promise<void> {
  const fleets = (process.env.BENCH_FLEETS ?? '1000x10,10000x60').split(',').map((f) => f.split('x').map(Number));
  const latency = Number(process.env.BENCH_LATENCY_MS ?? 200);
  const out = [];
  for (const [n, interval] of fleets) {
    const span = Number(process.env.BENCH_SPAN ?? 2 * interval);
    const list = records(n, interval);
    // Sides interleaved: bare, ems, ems, bare; the figures are the means of each side's two runs.
    const bare1 = await runBare(list, span, latency);
    const ems1 = await runEms(list, span, latency);
    const ems2 = await runEms(list, span, latency);
    const bare2 = await runBare(list, span, latency);
    const mean = (a: number, b: number) => +((a + b) / 2).toFixed(2);
    const r = {
      meters: n, interval_s: interval, span_s: span, polls: ems1.polls, bare_polls: bare1.polls, skipped: ems1.skipped,
      ems_cpu_ms_per_sim_s: mean(ems1.cpu_ms_per_sim_s, ems2.cpu_ms_per_sim_s), bare_cpu_ms_per_sim_s: mean(bare1.cpu_ms_per_sim_s, bare2.cpu_ms_per_sim_s),
      ems_us_per_poll: mean(ems1.cpu_us_per_poll, ems2.cpu_us_per_poll), bare_us_per_poll: mean(bare1.cpu_us_per_poll, bare2.cpu_us_per_poll),
      ratio_ems_bare: +((ems1.cpu_ms + ems2.cpu_ms) / Math.max(1, bare1.cpu_ms + bare2.cpu_ms)).toFixed(2),
      work_per_poll: ems1.work_per_poll, late_p50_ms: ems1.late_p50_ms, late_p99_ms: ems1.late_p99_ms,
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
    };
    console.log(`${n} meters at ${interval} s, ${span} s simulated: ${r.polls} polls (bare ${r.bare_polls}), ems ${r.ems_cpu_ms_per_sim_s} ms CPU per simulated s `
      + `(${(r.ems_cpu_ms_per_sim_s / 10).toFixed(2)}% of a core), ${r.ems_us_per_poll} us per poll, bare ${r.bare_us_per_poll} us per poll, ratio ems/bare ${r.ratio_ems_bare}, `
      + `${r.work_per_poll} work steps per poll, late p50 ${r.late_p50_ms} ms p99 ${r.late_p99_ms} ms, ${r.skipped} skipped`);
    out.push(r);
    const realS = Number(process.env.BENCH_REAL_S ?? 0);
    if (realS > 0) {
      const real = await runReal(list, realS, latency);
      console.log(`  real clock, ${realS} s: ${real.polls} polls, ${(real.share_of_core * 100).toFixed(2)}% of a core, ${real.cpu_us_per_poll} us per poll, late p50 ${real.late_p50_ms} ms p99 ${real.late_p99_ms} ms`);
      Object.assign(r, { real_polls: real.polls, real_share_of_core: real.share_of_core, real_late_p50_ms: real.late_p50_ms, real_late_p99_ms: real.late_p99_ms });
    }
  }
  console.log(JSON.stringify(out));
}

void main();
