// bench:scale's simulators (one `ems-sim modbus-meter --arrivals FILE` process per port) and what their arrival
// logs say about the polls: which were due, which reached the meter, and how late their first request arrived.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nextPollTime } from '../lib/ems/schedule';
import { loadProfile, planReads } from '../lib/protocols/modbus';
import { ROOT, stopChild, track, until, type ScaleMeter } from './scale-common';

export interface RunningSims {
  /** The TCP port of each simulator process, by port index. */
  ports: number[];
  pids: number[];
  /** Every request logged so far, per port index (text lines "ms unit fc address"). */
  arrivals(portIndex: number): string;
  stop(): Promise<void>;
}

/** One simulator process per port index, each serving its meters' unit ids and profiles, logging arrivals under `dir`. */
export async function startSims(meters: ScaleMeter[], dir: string): Promise<RunningSims> {
  const byPort = new Map<number, ScaleMeter[]>();
  for (const m of meters) byPort.set(m.portIndex, [...(byPort.get(m.portIndex) ?? []), m]);
  const procs = [...byPort.entries()].sort((a, b) => a[0] - b[0]).map(([index, ms]) => {
    const file = path.join(dir, `arrivals-${index}.log`);
    const args = [path.join(ROOT, 'dist/bin/ems-sim.js'), 'modbus-meter', '--port', '0', '--host', '127.0.0.1',
      '--profiles', ms.map((m) => `${m.unit}:${m.profile}`).join(','), '--arrivals', file];
    const child = track(spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    return { index, file, child, output: () => out };
  });
  const stop = async () => { await Promise.all(procs.map((p) => stopChild(p.child, `simulator ${p.index}`))); };
  try {
    const ports: number[] = [];
    for (const p of procs) {
      ports[p.index] = await until(`ems-sim modbus-meter ${p.index} to print its port`, 30_000, () => {
        if (p.child.exitCode !== null) throw new Error(`ems-sim modbus-meter ${p.index} exited ${p.child.exitCode}: ${p.output()}`);
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(p.output());
        return { value: m ? Number(m[1]) : undefined, seen: p.output() };
      });
    }
    return {
      ports,
      pids: procs.map((p) => p.child.pid!),
      arrivals: (i) => (fs.existsSync(procs[i].file) ? fs.readFileSync(procs[i].file, 'utf8') : ''),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface PollFigures {
  /** Polls due within the window (every meter's slots). */
  requested: number;
  /** Of those, polls whose every request reached the meter. */
  achieved: number;
  /** Of those, polls whose first request arrived but not all the others. */
  partial: number;
  /** Lateness of the first request of each started poll due within the window (arrival - due), ms. */
  lateness: number[];
}

const TOLERANCE_MS = 50; // a timer's rounding: a meter's first poll this much before a slot belongs to that slot

/**
 * The polls due in [from, to) as the simulators saw them. A poll starts with its plan's first block and is whole when
 * its last block arrived. Each poll start belongs to the earliest due slot after the previous poll of that meter ended
 * (its last block, or its slot if later), so a poll held back by a queue counts as late, and a slot skipped because the
 * meter was still busy counts as missed, not as a poll later than the one that really ran. A meter's first poll belongs
 * to the latest slot before it.
 */
export function pollFigures(meters: ScaleMeter[], sims: RunningSims, from: number, to: number): PollFigures {
  const plans = new Map<string, { first: string; last: string }>();
  const planOf = (profile: string) => {
    let p = plans.get(profile);
    if (!p) {
      const blocks = planReads(loadProfile(profile)).blocks;
      const key = (b: (typeof blocks)[number]) => `${b.table === 'holding' ? 3 : 4} ${b.start}`;
      plans.set(profile, (p = { first: key(blocks[0]), last: key(blocks[blocks.length - 1]) }));
    }
    return p;
  };
  const byKey = new Map<string, ScaleMeter>(meters.map((m) => [`${m.portIndex} ${m.unit}`, m]));
  const events = new Map<string, { t: number; first: boolean; last: boolean }[]>();
  for (const portIndex of new Set(meters.map((m) => m.portIndex))) {
    for (const line of sims.arrivals(portIndex).split('\n')) {
      if (!line) continue;
      const [t, unit, fc, address] = line.split(' ');
      const m = byKey.get(`${portIndex} ${unit}`);
      if (!m) continue;
      const plan = planOf(m.profile);
      const key = `${fc} ${address}`;
      const ev = { t: Number(t), first: key === plan.first, last: key === plan.last };
      if (!ev.first && !ev.last) continue;
      const list = events.get(m.id);
      if (list) list.push(ev); else events.set(m.id, [ev]);
    }
  }
  const figures: PollFigures = { requested: 0, achieved: 0, partial: 0, lateness: [] };
  for (const m of meters) {
    const def = { interval_time: m.interval, days_of_week: [], days_of_month: [] };
    for (let due = nextPollTime(m.id, def, from - 1); due !== null && due < to; due = nextPollTime(m.id, def, due)) figures.requested++;
    let prevEnd = -Infinity; // when the meter's previous poll ended (its last block), or its due time if later
    let open: { due: number } | undefined;
    for (const ev of events.get(m.id) ?? []) {
      if (ev.first) {
        if (open && open.due >= from && open.due < to) figures.partial++;
        if (open) prevEnd = Math.max(prevEnd, open.due); // a poll that never finished still took its slot
        const after = Number.isFinite(prevEnd) ? prevEnd : ev.t + TOLERANCE_MS - m.interval * 1000;
        const due = nextPollTime(m.id, def, after) ?? ev.t;
        open = { due };
        if (due >= from && due < to) figures.lateness.push(ev.t - due);
      }
      if (ev.last && open) {
        if (open.due >= from && open.due < to) figures.achieved++;
        prevEnd = Math.max(ev.t, open.due);
        open = undefined;
      }
    }
    if (open && open.due >= from && open.due < to) figures.partial++;
  }
  return figures;
}
