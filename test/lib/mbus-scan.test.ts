import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MbusMaster, TcpTransport, scanPrimary, scanSecondary, type ScanProgress } from '../../lib/protocols/mbus';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';

const s = (name: string) => findTelegram(name)!;

describe('M-Bus scans against the simulator', () => {
  let sim: MbusSimulator;
  let master: MbusMaster;

  before(async () => {
    // Ids sharing long prefixes force the secondary search to narrow to the last digit.
    sim = new MbusSimulator({ answerDelay: 1, slaves: [
      { primary: 1, sample: s('efe-waterstar'), id: '12345678' },
      { primary: 2, sample: s('efe-waterstar'), id: '12345679' },
      { primary: 3, sample: s('slb-cf-integral'), id: '12340000' },
      { primary: 5, sample: s('emu-professional'), id: '99999999' },
      { primary: 8, sample: s('els-f96-plus'), id: '00000001' },
      { primary: 8, sample: s('els-f96-plus'), id: '00000002' },
    ] });
    const port = await sim.listen(0);
    master = new MbusMaster(new TcpTransport({ kind: 'tcp', host: '127.0.0.1', port }), { timeout: 25, retries: 0, interFrameGap: 0 });
  });
  after(async () => {
    await master?.close();
    await sim?.close();
  });

  it('secondary wildcard search finds every meter, resolving collisions digit by digit', async () => {
    const progress: ScanProgress[] = [];
    const r = await scanSecondary(master, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(r.meters.map((m) => m.id).sort(), ['00000001', '00000002', '12340000', '12345678', '12345679', '99999999']);
    const slb = r.meters.find((m) => m.id === '12340000')!;
    assert.deepEqual({ ...slb }, { primary: null, secondary: '12340000824D0604', id: '12340000', manufacturer: 'SLB', version: 6, medium: 4, mediumName: slb.mediumName });
    assert.deepEqual(r.collisions, []);
    assert.ok(sim.stats.collisions >= 4, `collisions seen on the bus: ${sim.stats.collisions}`);
    // progress: one report per mask, probes counting up, the found count never falling
    assert.ok(progress.length > 10);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i].probes >= progress[i - 1].probes && progress[i].found >= progress[i - 1].found);
    }
    assert.ok(progress.some((p) => p.at === '1234567F'), 'narrowed to the last digit');
    assert.equal(progress[progress.length - 1].found, 6);
  });

  it('primary scan 0..250 finds the meters, reports the address where two answer at once', async () => {
    const progress: ScanProgress[] = [];
    const r = await scanPrimary(master, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(r.meters.map((m) => [m.primary, m.id, m.manufacturer]), [[1, '12345678', 'EFE'], [2, '12345679', 'EFE'], [3, '12340000', 'SLB'], [5, '99999999', 'EMU']]);
    assert.deepEqual(r.collisions, ['8']);
    assert.equal(progress.length, 251);
    assert.deepEqual({ done: progress[250].done, total: progress[250].total, found: progress[250].found }, { done: 251, total: 251, found: 4 });
  });

  it('a range and an abort flag', async () => {
    const r = await scanPrimary(master, { from: 2, to: 3 });
    assert.deepEqual(r.meters.map((m) => m.primary), [2, 3]);
    let n = 0;
    await assert.rejects(scanPrimary(master, { aborted: () => ++n > 3 }), /scan aborted/);
    await assert.rejects(scanPrimary(master, { from: 10, to: 251 }), /10..251 must lie within 0..250/);
  });
});
