#!/usr/bin/env node
// The README's test command: builds, then runs every compiled test file with Node's test runner, each file in
// its own process. EMS_TEST_ONLY=lib,nodes picks suites (lib, nodes, e2e, integration); default is all of them.
// Arguments are passed to every file's runner (e.g. --test-name-pattern=...); file arguments run only those files.
// Nothing waits forever: a test fails after 5 minutes, and a file still running after EMS_TEST_FILE_TIMEOUT
// seconds (default 900) is killed and reported by name. EMS_TEST_JOBS runs that many files at once (default 1:
// several end-to-end files at once on 2 cores make timing-sensitive tests slow). Ends with a summary per suite.
// EMS_TEST_SKIP_BUILD=1 runs what dist/ holds without building.
'use strict';
require('./help')(__filename);
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
if (process.env.EMS_TEST_SKIP_BUILD !== '1') {
  const build = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const suites = (process.env.EMS_TEST_ONLY || 'lib,nodes,e2e,integration').split(',');
const fileTimeoutMs = Number(process.env.EMS_TEST_FILE_TIMEOUT || 900) * 1000;
const jobs = Math.max(1, Number(process.env.EMS_TEST_JOBS) || 1);

function collect(dir, into) {
  if (!fs.existsSync(dir)) return into;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) collect(p, into);
    else if (e.name.endsWith('.test.js')) into.push(p);
  }
  return into;
}

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('-'));
const named = args.filter((a) => !a.startsWith('-')).map((a) => path.resolve(a));
const files = named.length ? named : suites.flatMap((s) => collect(path.join(root, 'dist', 'test', s), []));

/** Process groups of the files running now: killed on timeout, at their end, and when the runner is stopped. */
const running = new Set();
function killGroup(pid) {
  try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const pid of running) killGroup(pid);
    process.exit(130);
  });
}

/** Runs one file; resolves with its counts, output streamed through as it comes. */
function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Without NODE_TEST_CONTEXT (set when this runner itself runs under a test), the child runs its tests.
    const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
    // Its own process group: on timeout the whole group goes (node --test runs the file in a grandchild).
    const child = spawn(process.execPath, ['--test', '--test-timeout=300000', ...flags, file], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = '';
    const keep = (d) => { tail = (tail + d).slice(-4000); };
    child.stdout.on('data', (d) => { process.stdout.write(d); keep(d); });
    child.stderr.on('data', (d) => { process.stderr.write(d); keep(d); });
    let timedOut = false;
    running.add(child.pid);
    const timer = setTimeout(() => { timedOut = true; killGroup(child.pid); }, fileTimeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Whatever the file left running (a server it started, a hung grandchild) goes with it.
      killGroup(child.pid);
      running.delete(child.pid);
      const count = (name) => Number((tail.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      resolve({
        file: path.relative(root, file), seconds: (Date.now() - started) / 1000, timedOut,
        ok: code === 0 && !timedOut, code, signal, tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped'),
      });
    });
  });
}

async function main() {
  const started = Date.now();
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) results.push(await runFile(files[next++]));
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  const sum = (k, rs = results) => rs.reduce((n, r) => n + r[k], 0);
  const lines = ['', '# summary'];
  for (const suite of [...new Set(results.map((r) => r.file.split(path.sep)[2]))]) {
    const rs = results.filter((r) => r.file.split(path.sep)[2] === suite);
    lines.push(`#   ${suite}: ${rs.length} files, ${sum('tests', rs)} tests, ${sum('pass', rs)} pass, ${sum('fail', rs)} fail, ${sum('skipped', rs)} skipped, ${Math.round(sum('seconds', rs))} s`);
  }
  const slowest = results.slice().sort((a, b) => b.seconds - a.seconds).slice(0, 5);
  lines.push(`#   slowest: ${slowest.map((r) => `${path.basename(r.file)} ${Math.round(r.seconds)} s`).join(', ')}`);
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) {
    lines.push(`# FAILED ${r.file}: ${r.timedOut ? `killed after ${fileTimeoutMs / 1000} s (EMS_TEST_FILE_TIMEOUT)` : `${r.fail} failing test(s), exit ${r.code ?? r.signal}`}`);
  }
  lines.push(`# ${files.length} files, ${sum('tests')} tests, ${sum('pass')} pass, ${sum('fail')} fail, ${failed.length} files failed, ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(lines.join('\n'));
  process.exit(failed.length ? 1 : 0);
}

main();
