// DSMR P1 on a serial line: socat links two pseudo-terminals; the simulated DSMR 5 meter pushes its
// telegrams into one end at 115200 8N1 through the baud-paced line, ems-p1-meter reads the other
// end as it would a P1 cable, and checks every telegram's CRC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import p1Node from '../../nodes/p1-meter/p1-meter';
import { P1Simulator } from '../../lib/sim/p1';
import { charMs, openPtyPair, type PacedLine, type PtyPair } from '../../lib/sim/serial';
import type { Reading } from '../../lib/model';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');

describe('P1 over a serial pty pair (paced simulator)', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let dir: string;
  const pairs: PtyPair[] = [];
  const sims: P1Simulator[] = [];

  async function meter(o: ConstructorParameters<typeof P1Simulator>[0]): Promise<{ tty: string; sim: P1Simulator; line: PacedLine }> {
    const pair = await openPtyPair(fs.mkdtempSync(path.join(dir, 'p1-')), socat);
    pairs.push(pair);
    const sim = new P1Simulator(o);
    sims.push(sim);
    const line = await sim.openSerial(pair.slave);
    return { tty: pair.master, sim, line };
  }

  const node = (tty: string) => ({ id: 'n1', z: 't', type: 'ems-p1-meter', name: '', meterId: 'home', host: tty, port: '', dsmr: '4', timeZone: '', interval: '0', wires: [['out']] });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-p1-pty-'));
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    for (const s of sims) await s.close();
    for (const p of pairs) await p.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads DSMR 5 telegrams at 115200 8N1 with their CRC checked', async () => {
    const { tty, line } = await meter({ version: '5', intervalMs: 300, speed: 60 });
    assert.equal(line.describe(), '115200 8N1');
    await helper.load(p1Node, [{ id: 't', type: 'tab' }, node(tty), { id: 'out', z: 't', type: 'helper' }]);
    const msgs: any[] = [];
    const two = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.push(m); if (msgs.length === 2) r(); }));
    await within(two, 15_000, 'two P1 telegrams from the pty');
    for (const m of msgs) assert.equal(m.telegram.crc.ok, true);
    assert.equal(msgs[0].telegram.version, '5.0');
    const r = msgs[1].payload as Reading[];
    assert.equal(r.find((x) => x.obis === '1-0:1.8.1')!.unit, 'kWh');
    assert.ok(r.find((x) => x.obis === '1-0:1.8.1')!.value >= (msgs[0].payload as Reading[]).find((x) => x.obis === '1-0:1.8.1')!.value);
    // Each telegram took its wire time: 10 bits a character at 115200 baud.
    const tx = line.spans.find((x) => x.dir === 'tx')!;
    assert.ok(tx.bytes > 300 && Math.abs((tx.end - tx.start) - tx.bytes * charMs(line.line)) < 1e-6);
    await helper.unload();
  });

  it('reports a telegram whose CRC is wrong to Catch, and sends nothing', async () => {
    const { tty } = await meter({ version: '5', intervalMs: 300, fault: 'crc' });
    const flow: any[] = [
      { id: 't', type: 'tab' }, node(tty), { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 't', type: 'helper' },
    ];
    await helper.load(p1Node, flow);
    let sent = 0;
    helper.getNode('out').on('input', () => { sent++; });
    const caught = await within(new Promise<any>((r) => helper.getNode('caught').once('input', r)), 15_000, 'the CRC error from the pty');
    assert.match(caught.error.message, /CRC error/);
    assert.equal(sent, 0);
  });
});
