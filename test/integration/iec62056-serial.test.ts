// IEC 62056-21 mode C on a serial line: socat (Debian) links two pseudo-terminals; the simulated meter
// opens one end at 300 baud 7E1, the HHU (our SerialLink / ems-iec62056-meter) the other, and both
// switch speed after the option select, as an optical head and a meter do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import iecNode from '../../nodes/iec62056-meter/iec62056-meter';
import { SerialLink } from '../../lib/protocols/hex/link';
import { readout } from '../../lib/protocols/iec62056-21';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';
import type { Reading } from '../../lib/model';
import { openPtyPair, type PacedLine, type PtyPair } from '../../lib/sim/serial';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

helper.init(require.resolve('node-red'));
const socat = findExecutable('socat', 'EMS_SOCAT');

describe('IEC 62056-21 over a serial pty pair', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let sim: Iec62056Simulator;
  let pair: PtyPair | undefined;
  let dir: string;
  let hhu: string;
  let line: PacedLine;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-iec-pty-'));
    pair = await openPtyPair(dir, socat!, ['ttyHHU', 'ttyMETER']);
    hhu = pair.master;
    const meter = pair.slave;
    sim = new Iec62056Simulator({ meters: [{ address: '12345678', profile: findSimMeter('iskra-mt174')! }, { address: '33333333', profile: findSimMeter('emh-lzqj')! }] });
    await sim.listen(0);
    line = await sim.openSerial(meter); // paced: 300 baud for the sign-on, the agreed speed after it
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    await sim?.close();
    await pair?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('signs on at 300 baud 7E1 and switches both ends to 9600 baud after ACK 0 5 0 (mode C)', async () => {
    const link = await SerialLink.open(hhu, { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 }, true);
    const speeds: number[] = [];
    const setBaud = link.setBaud.bind(link);
    link.setBaud = async (b: number) => { await setBaud(b); speeds.push(link.baudRate); };
    try {
      const meter = sim.meter('12345678');
      const before = meter.stats.bauds.length;
      const spans0 = line.spans.length;
      // 4 s for the identification: at 300 baud the sign-on alone is on the wire for 433 ms and the
      // identification for 567 ms (the paced simulator keeps real time), more than the 1.5 s default leaves.
      const r = await readout(link, { address: '12345678', maxBaud: 19200, timeoutMs: 4000 });
      assert.equal(r.identification.raw, '/ISk5MT174-0001');
      assert.equal(r.baud, 9600);
      assert.deepEqual(speeds, [300, 9600, 300], 'the HHU port: 300 for the sign-on, 9600 for the data, 300 again after it');
      assert.deepEqual(meter.stats.bauds.slice(before, before + 2), [300, 9600]);
      const sent = link.trace.filter((t) => t.dir === 'tx').map((t) => t.data.toString('latin1'));
      assert.deepEqual(sent, ['/?12345678!\r\n', '\x06050\r\n']);
      assert.ok(r.sets.some((s) => s.obis === '1-0:1.8.0'));
      // On the meter's wire: the identification at 300 baud 7E1 (33.3 ms a character), the data at 9600 (1.04 ms).
      const wire = line.spans.slice(spans0).filter((x) => x.dir === 'tx');
      const perChar = wire.map((x) => (x.end - x.start) / x.bytes);
      assert.ok(Math.abs(perChar[0] - 1000 * 10 / 300) < 1e-6, `identification: ${perChar[0]} ms a character`);
      assert.ok(Math.abs(perChar[1] - 1000 * 10 / 9600) < 1e-6, `data message: ${perChar[1]} ms a character`);
      assert.ok(wire[1].bytes > 100 && wire[1].start >= wire[0].end);
    } finally {
      await link.close();
    }
  });

  it('ems-iec62056-meter reads a mode B meter on the serial path of an EMS meter definition', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' },
      { id: 'n1', z: 't', type: 'ems-iec62056-meter', host: '/dev/null', port: '', mode: 'auto', address: '', maxBaud: '9600', timeout: '2000', timeDifference: '0', timeZone: 'UTC', system: '', wires: [['out']] },
      { id: 'out', z: 't', type: 'helper' },
    ];
    await helper.load(iecNode, flow);
    // The readout, or the node's own error: a loaded machine may fail the poll, but never hang the test.
    const n1 = helper.getNode('n1');
    const got = new Promise<any>((resolve, reject) => {
      helper.getNode('out').on('input', resolve);
      (n1 as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) => reject(new Error(`ems-iec62056-meter failed: ${String(call.args[0])}`)));
    });
    n1.receive({ meter: { _id: 'emh', ip_address: hhu, port: 0, connection_address: '33333333', waiting_time: 4000, time_difference: 0 } } as any);
    const msg = await within(got, 60_000, 'the readout of the mode B meter on the serial pty');
    assert.equal(msg.iec62056.identification.mode, 'B');
    assert.equal(msg.iec62056.baud, 9600);
    const e = (msg.payload as Reading[]).find((x) => x.obis === '1-0:1.8.0')!;
    assert.ok(e.value >= 1281.6601 && e.value < 1282, `1.8.0 = ${e.value}`);
    await new Promise((r) => setTimeout(r, 300)); // the meter falls back to 300 baud after its data message
    assert.deepEqual(sim.meter('33333333').stats.bauds.slice(-3), [300, 9600, 300]);
  });
});
