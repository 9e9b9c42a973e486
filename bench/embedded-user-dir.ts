import fs from 'node:fs';
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
