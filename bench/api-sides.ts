/**
 * The two servers bench/api.ts measures, each run in its own process (fork with IPC) so its peak RSS
 * is its own:
 *   node  the shipped flows/ems.json in Node-RED embedded (RED.init/RED.start), its http-in nodes
 *         on 127.0.0.1:<random port>: auth, the ems-api node, the envelope, http response;
 *   bare  node:http on 127.0.0.1:<random port> answering the SAME store work with no auth and no
 *         envelope: store.query for a readings window, tariffReport for a report.
 * Each sends { type: 'ready', port } and answers { cmd: 'rss' } with { type: 'rss', maxRss } (bytes).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseDateRange } from '../lib/ems/data';
import { tariffReport, type ReportStep } from '../lib/ems/reports';
import { SqliteStore } from '../lib/store/sqlite';
import { benchUserDir, startEmbeddedNodeRed } from './embedded-user-dir';

export interface SideConfig { side: 'node' | 'bare'; root: string; sqlite: string; dbPath: string; timeZone: string }

function report(msg: Record<string, unknown>): void {
  process.send!(msg);
}

function onRss(): void {
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'rss') report({ type: 'rss', maxRss: process.resourceUsage().maxRSS * 1024 });
    if (m.cmd === 'exit') process.exit(0);
  });
}

async function nodeSide(cfg: SideConfig): Promise<void> {
  Object.assign(process.env, {
    EMS_SQLITE_PATH: cfg.sqlite, EMS_DB_PATH: cfg.dbPath, EMS_TIME_ZONE: cfg.timeZone, EMS_STORE: 'sqlite',
    EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: '9', EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'bench-head-secret',
  });
  const { userDir } = benchUserDir(cfg.root, 'ems-bench-api-');
  fs.copyFileSync(path.join(cfg.root, 'flows', 'ems.json'), path.join(userDir, 'flows.json'));
  let RED: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const server = http.createServer((req, res) => RED.httpNode(req, res));
  RED = await startEmbeddedNodeRed(userDir, { server, httpAdminRoot: false, httpNodeRoot: '/' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('exit', () => fs.rmSync(userDir, { recursive: true, force: true }));
  report({ type: 'ready', port: (server.address() as { port: number }).port });
}

async function bareSide(cfg: SideConfig): Promise<void> {
  const store = new SqliteStore({ path: cfg.sqlite });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = Object.fromEntries(url.searchParams);
    const answer = async (): Promise<unknown> => {
      if (url.pathname === '/readings') return store.query({ meter: q.meter, from: Number(q.from), to: Number(q.to) });
      if (url.pathname === '/report') {
        const { from, to } = parseDateRange(q.date1, q.date2, Date.now(), cfg.timeZone);
        return tariffReport(store, { meter: q.meter, location: [], from, to, step: q.step as ReportStep, timeZone: cfg.timeZone });
      }
      throw new Error(`no route ${url.pathname}`);
    };
    answer().then(
      (data) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(data)); },
      (err: Error) => { res.writeHead(500); res.end(err.message); },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  report({ type: 'ready', port: (server.address() as { port: number }).port });
}

export function sideMain(cfg: SideConfig): void {
  onRss();
  (cfg.side === 'node' ? nodeSide(cfg) : bareSide(cfg)).catch((err: Error) => {
    report({ type: 'error', message: err.stack ?? err.message });
    process.exit(1);
  });
}
