import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

/**
 * A temp Node-RED user directory for an embedded runtime: the checkout at `root` linked into its
 * node_modules, and a do-nothing node type "ems-bench-sink" (like the test helper's "helper" node)
 * whose input handler the bench adds. Returns the directory and its node_modules path.
 */
export function benchUserDir(root: string, prefix: string): { userDir: string; modules: string } {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const modules = path.join(userDir, 'node_modules');
  const sinkDir = path.join(modules, 'ems-bench-sink');
  fs.mkdirSync(sinkDir, { recursive: true });
  fs.symlinkSync(root, path.join(modules, 'node-red-contrib-ems'), 'dir');
  fs.writeFileSync(path.join(sinkDir, 'package.json'), JSON.stringify({ name: 'ems-bench-sink', version: '1.0.0', 'node-red': { nodes: { 'ems-bench-sink': 'sink.js' } } }));
  fs.writeFileSync(path.join(sinkDir, 'sink.js'), "module.exports = (RED) => RED.nodes.registerType('ems-bench-sink', function (n) { RED.nodes.createNode(this, n); });\n");
  fs.writeFileSync(path.join(sinkDir, 'sink.html'), '<script type="text/javascript">RED.nodes.registerType("ems-bench-sink",{category:"common",defaults:{},inputs:1,outputs:0});</script>\n');
  return { userDir, modules };
}

/**
 * Node-RED embedded in this process (RED.init + RED.start) on `userDir`'s flows.json; by default with an admin
 * server that never listens (`web` passes a server and roots to serve http in nodes), everything quiet
 * but errors; resolves once the flows have started.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function startEmbeddedNodeRed(
  userDir: string,
  web: { server?: http.Server; httpAdminRoot?: string | false; httpNodeRoot?: string | false } = {},
): Promise<any> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  RED.init(web.server ?? http.createServer(), {
    userDir, flowFile: 'flows.json', credentialSecret: 'ems-bench',
    httpAdminRoot: web.httpAdminRoot ?? '/', httpNodeRoot: web.httpNodeRoot ?? false, uiHost: '127.0.0.1',
    logging: { console: { level: 'error', metrics: false, audit: false } },
    editorTheme: { tours: false, palette: { catalogues: [] } },
    diagnostics: { enabled: false, ui: false }, runtimeState: { enabled: false, ui: false }, telemetry: { enabled: false },
    externalModules: { palette: { allowInstall: false }, autoInstall: false },
  });
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  await RED.start();
  await started;
  return RED;
}
