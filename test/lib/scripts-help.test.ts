// Every script of the checkout answers --help with what it does, and exits 0 without doing it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SCRIPTS = path.resolve(__dirname, '..', '..', '..', 'scripts');

describe('scripts answer --help', () => {
  const scripts = fs.readdirSync(SCRIPTS).filter((f) => f.endsWith('.js') && f !== 'help.js');
  it('lists the scripts', () => assert.ok(scripts.length >= 6, scripts.join(', ')));
  for (const script of scripts) {
    it(`${script} --help`, () => {
      const r = spawnSync(process.execPath, [path.join(SCRIPTS, script), '--help'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${script}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stdout, /^Usage:/, script);
      assert.ok(r.stdout.split('\n').length >= 3, `${script} says what it does: ${r.stdout}`);
    });
  }
});
