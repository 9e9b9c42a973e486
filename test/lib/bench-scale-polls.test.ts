// bench:scale reads polls and their lateness from the simulators' arrival logs: what it counts must be what happened.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextPollTime } from '../../lib/ems/schedule';
import { loadProfile, planReads } from '../../lib/protocols/modbus';
import type { ScaleMeter } from '../../bench/scale-common';
import { pollFigures, type RunningSims } from '../../bench/scale-sims';

const INTERVAL = 10;
const meter = (id: string, unit: number): ScaleMeter => ({ id, portIndex: 0, unit, profile: 'eastron-sdm630', interval: INTERVAL });
const blocks = planReads(loadProfile('eastron-sdm630')).blocks.map((b) => `4 ${b.start}`); // input registers: function code 4
const slot = (m: ScaleMeter, after: number) => nextPollTime(m.id, { interval_time: INTERVAL, days_of_week: [], days_of_month: [] }, after)!;

/** Arrival lines of a whole poll of `m` starting at `t` (its blocks 5 ms apart), or of its first `count` blocks. */
function poll(m: ScaleMeter, t: number, count = blocks.length): string[] {
  return blocks.slice(0, count).map((b, i) => `${t + i * 5} ${m.unit} ${b}`);
}

function sims(lines: string[]): RunningSims {
  const text = lines.map((l) => ({ l, t: Number(l.split(' ')[0]) })).sort((a, b) => a.t - b.t).map((x) => x.l).join('\n') + '\n';
  return { ports: [1], pids: [], arrivals: () => text, stop: async () => undefined };
}

describe('bench:scale poll figures from arrival logs', () => {
  const a = meter('scale-p0-u1', 1);
  const b = meter('scale-p0-u2', 2);
  const base = slot(a, 1_800_000_000_000);
  const from = base + 1;
  const to = from + 3 * INTERVAL * 1000; // three slots of each meter

  it('counts on-time polls as whole with their lateness, and a meter never polled as requested only', () => {
    const lines = [0, 1, 2, 3].flatMap((k) => poll(a, base + k * 10_000 + 7));
    const f = pollFigures([a, b], sims(lines), from, to);
    assert.equal(f.requested, 6);
    assert.equal(f.achieved, 3);
    assert.equal(f.partial, 0);
    assert.deepEqual(f.lateness, [7, 7, 7]);
  });

  it('a poll held 12 s in a queue is 12 s late, and the slot skipped meanwhile is missed, not a second late poll', () => {
    const lines = [...poll(a, base + 5), ...poll(a, base + 10_000 + 12_000), ...poll(a, base + 30_000 + 4)];
    const f = pollFigures([a], sims(lines), from, to);
    assert.equal(f.requested, 3);
    assert.deepEqual(f.lateness, [12_000, 4]);
    assert.equal(f.achieved, 2);
  });

  it('a poll whose first block arrived but not its last is partial, not whole', () => {
    const lines = [...poll(a, base + 3), ...poll(a, base + 10_000 + 3, 1), ...poll(a, base + 20_000 + 3)];
    const f = pollFigures([a], sims(lines), from, to);
    assert.equal(f.partial, 1);
    assert.equal(f.achieved, 1);
    assert.deepEqual(f.lateness, [3, 3]);
  });
});
