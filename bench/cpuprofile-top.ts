/**
 * Where the CPU went in a .cpuprofile (e.g. from BENCH_CPU_PROF=DIR npm run bench:modbus):
 *   node dist/bench/cpuprofile-top.js FILE.cpuprofile [more files] [--top N] [--inclusive]
 * Prints the functions with the most self time (and with --inclusive, the most time including what
 * they call), as ms and as a share of the busy (non-idle) time.
 */
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const ROOT = path.resolve(__dirname, '..', '..');

function label(cf: CallFrame): string {
  const url = cf.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '').replace(/node_modules\//g, 'nm/');
  return `${cf.functionName || '(anonymous)'}${url ? ` ${url}:${cf.lineNumber + 1}` : ''}`;
}

function summarise(file: string, top: number, inclusive: boolean): void {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map<number, number>();
  p.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of time) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const key = label(cf);
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  console.log(`${file}: busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`);
  const print = (title: string, m: Map<string, number>) => {
    console.log(`  ${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  print('self time', self);
  if (inclusive) print('including callees', incl);
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
const inclusive = args.includes('--inclusive');
const files = args.filter((a) => !a.startsWith('--'));
if (!files.length || !Number.isInteger(top) || top < 1) {
  console.error('usage: node dist/bench/cpuprofile-top.js FILE.cpuprofile [...] [--top N] [--inclusive]');
  process.exit(2);
}
for (const f of files) summarise(f, top, inclusive);
