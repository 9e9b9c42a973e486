import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskSpool } from '../../lib/store/influxdb/spool';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ems-spool-'));
}
const lines = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `m,t=a v=${from + i} ${from + i}`);

describe('DiskSpool', () => {
  it('appends, peeks and acks in order across segments', () => {
    const dir = tmpDir();
    const s = new DiskSpool({ dir, segmentBytes: 100 });
    s.append(lines(0, 5));
    s.append(lines(5, 5));
    s.append(lines(10, 3));
    assert.equal(s.size, 13);
    assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.lp')).length >= 2);
    assert.deepEqual(s.peek(4), lines(0, 4));
    s.ack(4);
    assert.deepEqual(s.peek(100), lines(4, 9));
    s.ack(3);
    assert.equal(s.size, 6);
    assert.deepEqual(s.peek(100), lines(7, 6));
    s.ack(6);
    assert.equal(s.size, 0);
    assert.deepEqual(s.peek(10), []);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.throws(() => s.ack(1), /only 0 are spooled/);
  });

  it('survives a restart: a new spool on the same directory sees what is left, in order', () => {
    const dir = tmpDir();
    const a = new DiskSpool({ dir, segmentBytes: 64 });
    a.append(lines(0, 10));
    a.ack(3);
    const b = new DiskSpool({ dir, segmentBytes: 64 });
    assert.equal(b.size, 7);
    assert.deepEqual(b.peek(100), lines(3, 7));
    b.append(lines(10, 2));
    b.ack(5);
    const c = new DiskSpool({ dir, segmentBytes: 64 });
    assert.deepEqual(c.peek(100), lines(8, 4));
    c.ack(4);
    // emptied, then restarted: numbering starts afresh and no stale offset applies
    const d = new DiskSpool({ dir, segmentBytes: 64 });
    d.append(lines(20, 2));
    assert.deepEqual(new DiskSpool({ dir }).peek(10), lines(20, 2));
  });

  it('is bounded: append beyond maxBytes throws naming the path and size, and keeps nothing of it', () => {
    const dir = tmpDir();
    const s = new DiskSpool({ dir, maxBytes: 200 });
    s.append(lines(0, 5));
    const before = s.size;
    assert.throws(() => s.append(lines(5, 20)), (err: Error) => err.message.includes(dir) && /is full: \d+ of 200 bytes/.test(err.message));
    assert.equal(s.size, before);
    s.ack(5);
    s.append(lines(5, 5));
    assert.deepEqual(s.peek(10), lines(5, 5));
  });

  it('refuses lines with a newline', () => {
    const s = new DiskSpool({ dir: tmpDir() });
    assert.throws(() => s.append(['a v=1 1\nb v=2 2']), /newline/);
    assert.equal(s.size, 0);
  });

  it('ignores a torn last line after a crash and counts it', () => {
    const dir = tmpDir();
    const s = new DiskSpool({ dir });
    s.append(lines(0, 3));
    const seg = fs.readdirSync(dir).find((f) => f.endsWith('.lp'))!;
    fs.appendFileSync(path.join(dir, seg), 'm,t=a v=99 9'); // no newline: torn
    const t = new DiskSpool({ dir });
    assert.equal(t.tornLines, 1);
    assert.deepEqual(t.peek(10), lines(0, 3));
    t.append(lines(3, 1));
    assert.deepEqual(new DiskSpool({ dir }).peek(10), lines(0, 4));
  });
});
