/** `ems-decode mbus`: a real telegram as argument or stdin, exit 0 with JSON; broken input exits 1 naming offset and reason. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'dist/bin/ems-decode.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, 'mbus', ...args], { input, encoding: 'utf8' });
const corpus = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/mbus/telegrams.json'), 'utf8'));
const kam = corpus.telegrams.find((t: { name: string }) => /Multical 601/.test(t.name)).hex as string;

describe('ems-decode mbus', () => {
  it('decodes a Kamstrup Multical 601 telegram given as arguments', () => {
    const r = run(kam.split(' '));
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.header.id, '06855817');
    assert.equal(out.header.manufacturer, 'KAM');
    assert.equal(out.header.medium, '0x04');
    const energy = out.records[1];
    assert.deepEqual([energy.quantity, energy.unit, energy.value, energy.storage, energy.function], ['energy', 'Wh', 37351000, 0, 'instantaneous']);
    assert.equal(out.records[17].storage, 1);
    assert.equal(out.records.length, 27);
  });
  it('reads hex from stdin, and user data starting at CI', () => {
    const r = run([], '72 78 56 34 12 2D 2C 01 04 01 00 00 00\n04 13 E8 03 00 00\n');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.records[0].value, 1);
    assert.equal(out.records[0].unit, 'm3');
  });
  it('exits 1 with offset and reason for a truncated record', () => {
    const r = run(['78', '04', '13', '01', '02']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /offset 2: record at 0 truncated: 4 data bytes expected, 2 left/);
  });
  it('exits 1 for a wrong checksum, naming the byte', () => {
    const bad = kam.replace(/98 16$/, '99 16');
    const r = run([bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /checksum 0x99, expected 0x98/);
  });
  it('exits 1 for text that is not hex', () => {
    const r = run(['68', 'zz']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not a hex digit/);
  });
  it('its help example decodes', () => {
    const help = spawnSync(process.execPath, [bin, 'mbus', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    const example = /Example: ems-decode mbus ([0-9A-F ]+?)   /.exec(help.stdout)![1];
    const r = run(example.split(' '));
    assert.equal(r.status, 0, r.stderr);
  });
});
