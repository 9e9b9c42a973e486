/**
 * The dashboard's cost per refresh against the number of meters: drives the generated "EMS Dashboard" tab (function
 * nodes as compiled code, a fake EMS answering its ems-api and ems-store-query nodes: test/fixtures/dashboard-flow-runner.ts)
 * with one or more clients on a page, and prints per timer refresh the CPU time and the work counted (API calls,
 * store rows, widget rows), for each meter count side by side.
 *   node dist/bench/dashboard.js [--sizes 100,1000,10000] [--clients 2] [--page overview] [--refreshes 6] [--flow FILE]
 * --flow reads the tab from a flows file (e.g. an older flows/ems.json) instead of lib/ems/dashboard-flow.ts.
 * For a profile: node --cpu-prof --cpu-prof-dir=DIR dist/bench/dashboard.js ...; node dist/bench/cpuprofile-top.js DIR/*.cpuprofile
 */
import fs from 'node:fs';
import { dashboardFlow } from '../lib/ems/dashboard-flow';
import type { FlowNode } from '../lib/ems/dashboard-nodes';
import { DashboardFlowRunner, fakeMeters } from '../test/fixtures/dashboard-flow-runner';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sizes = arg('sizes', '100,1000,10000').split(',').map(Number);
const clientCount = Number(arg('clients', '2'));
const page = arg('page', 'overview');
const refreshes = Number(arg('refreshes', '6'));
const flowFile = arg('flow', '');
const flow: FlowNode[] = flowFile
  ? (JSON.parse(fs.readFileSync(flowFile, 'utf8')) as FlowNode[]).filter((n) => n.id === 'ems-dash-tab' || n.id.startsWith('dash-'))
  : dashboardFlow();

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

console.log(`dashboard bench: ${clientCount} client(s) of one user on /${page}, ${refreshes} timer refreshes each; ${flowFile ? `tab from ${flowFile}` : 'tab from lib/ems/dashboard-flow.ts'}`);
console.log('meters  idle tick (fn runs, api calls)  view ms  per-refresh ms  api calls/refresh  store rows/refresh  widget rows/refresh  fn runs/refresh  meters listed/refresh');
for (const n of sizes) {
  let t = Date.parse('2026-11-21T16:30:00Z');
  const runner = new DashboardFlowRunner(flow, fakeMeters(n), () => t);
  // Nobody looking: the timer alone.
  for (let i = 0; i < 3; i++) {
    t += 5_000;
    runner.send('dash-clients', { topic: 'dash-tick' });
  }
  const idle = runner.work;
  const idleApi = Object.values(idle.api).reduce((a, b) => a + b, 0);
  runner.reset();
  let c0 = cpuMs();
  for (let k = 0; k < clientCount; k++) {
    runner.send('dash-clients', { topic: '$pageview', payload: { page: { path: `/${page}` } }, _client: { socketId: `sock-${k}`, emsSessionId: 'sess-admin', emsLogin: 'admin', emsRole: 'admin' } });
  }
  const viewMs = cpuMs() - c0;
  runner.reset();
  c0 = cpuMs();
  for (let i = 0; i < refreshes * 2; i++) {
    t += 5_000;
    runner.send('dash-clients', { topic: 'dash-tick' });
  }
  const ms = cpuMs() - c0;
  const w = runner.work;
  const per = refreshes * clientCount;
  const apiCalls = Object.values(w.api).reduce((a, b) => a + b, 0);
  console.log([
    String(n).padStart(6), `${idle.functionRuns} fn, ${idleApi} api`.padStart(28), viewMs.toFixed(1).padStart(8), (ms / per).toFixed(2).padStart(15),
    (apiCalls / per).toFixed(1).padStart(18), (w.storeRows / per).toFixed(0).padStart(19), (w.widgetRows / per).toFixed(0).padStart(20), (w.functionRuns / per).toFixed(1).padStart(16), (w.listedMeters / per).toFixed(0).padStart(22),
  ].join('  '));
  console.log(`        api calls by operation over the refreshes: ${JSON.stringify(w.api)}`);
}
