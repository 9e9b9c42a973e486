// The baud-paced serial line on a real pseudo-terminal pair (socat): what the simulator sends reaches
// the other end at the line rate, although a pty itself delivers instantly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { openLinePort, openPtyPair, PacedLine, parseLine, type PtyPair } from '../../lib/sim/serial';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

const socat = findExecutable('socat', 'EMS_SOCAT');

describe('baud-paced line on a pty pair', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let dir: string;
  let pair: PtyPair;
  let line: PacedLine;
  let master: SerialPort;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-line-'));
    pair = await openPtyPair(dir, socat);
    const settings = parseLine('8E1', 9600);
    line = new PacedLine(await openLinePort(pair.slave, settings), settings);
    master = await new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path: pair.master, baudRate: 9600, parity: 'even' }, (e) => (e ? reject(e) : resolve(p)));
    });
  });

  after(async () => {
    if (master?.isOpen) await new Promise((r) => master.close(r));
    await line?.close();
    await pair?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a 1000-byte answer at 9600 baud 8E1 takes 1000 x 11 bits / 9600 = 1.146 s at the other end (within 3 %)', async () => {
    let got = 0;
    let lastAt = 0;
    let chunks = 0;
    const all = new Promise<void>((resolve) => master.on('data', (d: Buffer) => {
      got += d.length;
      chunks++;
      lastAt = performance.now();
      if (got >= 1000) resolve();
    }));
    const start = performance.now();
    const span = await within(line.send(Buffer.alloc(1000, 0xa5)), 5000, 'the simulator sending 1000 bytes');
    await within(all, 5000, 'the master end receiving 1000 bytes');
    const expected = (1000 * 11 * 1000) / 9600;
    assert.ok(Math.abs(span.end - span.start - expected) < 1e-6);
    const took = lastAt - start;
    assert.ok(Math.abs(took - expected) / expected < 0.03, `took ${took.toFixed(1)} ms, expected ${expected.toFixed(1)} ms +- 3 %`);
    assert.ok(chunks > 50, `arrived in ${chunks} chunks, not in one burst`);
  });
});
