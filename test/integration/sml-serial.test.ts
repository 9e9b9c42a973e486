// SML over a serial line: socat (Debian) links two pseudo-terminals; the simulated eHZ sends its
// telegrams into one end at 9600 8N1, ems-sml-meter reads the other as it would an IR head.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import smlNode from '../../nodes/sml-meter/sml-meter';
import { SmlSimulator } from '../../lib/sim/sml';
import type { Reading } from '../../lib/model';
import { openPtyPair, type PtyPair } from '../../lib/sim/serial';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');

describe('SML over a serial pty pair', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let sim: SmlSimulator;
  let pair: PtyPair | undefined;
  let dir: string;
  let head: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-sml-pty-'));
    pair = await openPtyPair(dir, socat!, ['ttyIR', 'ttyMETER']);
    head = pair.master;
    const meter = pair.slave;
    sim = new SmlSimulator({ intervalMs: 200, speed: 3600 });
    await sim.openSerial(meter);
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
    await pair?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ems-sml-meter on the IR head device receives readings at 9600 8N1', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, { id: 'n1', z: 't', type: 'ems-sml-meter', meterId: 'ehz-serial', host: head, port: '', baud: '9600', silence: '60', wires: [['out']] }, { id: 'out', z: 't', type: 'helper' }];
    await helper.load(smlNode, flow);
    const msgs: any[] = [];
    helper.getNode('out').on('input', (m: any) => msgs.push(m));
    const deadline = Date.now() + 15_000;
    while (msgs.length < 2) {
      if (Date.now() > deadline) throw new Error(`only ${msgs.length} telegrams within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = msgs[1].payload as Reading[];
    assert.deepEqual(r.map((x) => x.obis), ['1-0:1.8.0', '1-0:2.8.0', '1-0:16.7.0']);
    assert.equal(msgs[1].topic, 'ehz-serial');
    assert.ok(r[0].value >= (msgs[0].payload as Reading[])[0].value);
  });
});
