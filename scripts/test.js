#!/usr/bin/env node
// The README's test command: builds, then runs every compiled test file with Node's test runner.
// EMS_TEST_ONLY=lib,nodes picks suites (lib, nodes, e2e, integration); default is all of them.
'use strict';
require('./help')(__filename);
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const build = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const suites = (process.env.EMS_TEST_ONLY || 'lib,nodes,e2e,integration').split(',');
const files = [];
function collect(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) collect(p);
    else if (e.name.endsWith('.test.js')) files.push(p);
  }
}
for (const s of suites) collect(path.join(root, 'dist', 'test', s));
const extra = process.argv.slice(2);
// A test that hangs fails after 5 minutes (the longest suite takes under a minute) instead of holding up the run.
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...extra, ...(extra.some((a) => !a.startsWith('-')) ? [] : files)], {
  stdio: 'inherit', cwd: root,
});
process.exit(run.status ?? 1);
