// `npm test` cannot hang: a test file that never ends is killed after the per-file timeout and named.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUNNER = path.resolve(__dirname, '..', '..', '..', 'scripts', 'test.js');

/** Pids of processes whose command line mentions `file` (Linux /proc). */
function processesRunning(file: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(file)) pids.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

describe('the test runner (scripts/test.js)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-runner-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('kills a file that never ends, names it, counts the other files and fails the run', () => {
    const hang = path.join(dir, 'hangs.test.js');
    fs.writeFileSync(hang, "require('node:test').it('passes, then keeps a timer', () => {}); setInterval(() => {}, 1000);\n");
    const fine = path.join(dir, 'fine.test.js');
    fs.writeFileSync(fine, "const { it } = require('node:test'); it('one', () => {}); it('two', () => {});\n");
    const r = spawnSync(process.execPath, [RUNNER, hang, fine], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, EMS_TEST_SKIP_BUILD: '1', EMS_TEST_FILE_TIMEOUT: '2' },
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    // The killed file's own counts never arrive; the other file's do.
    assert.match(r.stdout, /# FAILED .*hangs\.test\.js: killed after 2 s \(EMS_TEST_FILE_TIMEOUT\)/);
    assert.match(r.stdout, /# 2 files, 2 tests, 2 pass, 0 fail, 1 files failed/);
    // Killed with its whole process group: nothing runs the hung file any more.
    assert.deepEqual(processesRunning(hang), [], 'processes still running the hung file');
  });

  it('passes a run whose files all pass', () => {
    const fine = path.join(dir, 'fine.test.js');
    const r = spawnSync(process.execPath, [RUNNER, fine], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, EMS_TEST_SKIP_BUILD: '1' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# 1 files, 2 tests, 2 pass, 0 fail, 0 files failed/);
  });
});
