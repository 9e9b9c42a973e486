import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { C, decodeFrame, encodeShort, parseHex, selectFrame, sndNke, FrameSplitter } from '../../lib/protocols/mbus/frame';
import { MbusSimulator, counterRecord, findTelegram, garble, readCounter, mbusCli, parseSlave } from '../../lib/sim/mbus';
import { UsageError } from '../../lib/sim/registry';

const sample = (name: string) => findTelegram(name)!;
const req = (a: number, fcb: boolean) => encodeShort(C.REQ_UD2 | C.FCV | (fcb ? C.FCB : 0), a);
const user = (frame: Buffer) => frame.subarray(7, frame.length - 2);

describe('M-Bus simulator', () => {
  it('finds the counter of each real telegram at the documented record', () => {
    // libmbus's decodings: SLB energy 0 kWh (BCD), ELS energy 0 kWh, EFE volume 332 l (0x014C), EMU energy T1 1364 Wh (0x0554)
    const expect: Record<string, [string, number]> = {
      'slb-cf-integral': ['0c06', 0], 'els-f96-plus': ['0c06', 0], 'efe-waterstar': ['0413', 332], 'emu-professional': ['841003', 1364],
    };
    for (const [name, [head, value]] of Object.entries(expect)) {
      const data = user(parseHex(sample(name).hex));
      const r = counterRecord(data)!;
      assert.equal(data.subarray(r.start, r.valueAt).toString('hex'), head, name);
      assert.equal(readCounter(data, r), value, name);
    }
  });

  it('answers SND_NKE with ACK, REQ_UD2 with the captured telegram (own id, valid checksum)', () => {
    const sim = new MbusSimulator({ slaves: [{ primary: 3, sample: sample('efe-waterstar') }, { primary: 4, sample: sample('emu-professional'), id: '12345678' }] });
    assert.deepEqual(sim.handle(sndNke(3)), Buffer.from([0xe5]));
    assert.equal(sim.handle(sndNke(9)), null);
    const f = decodeFrame(sim.handle(req(3, true))!);
    assert.equal(f.kind, 'long');
    if (f.kind !== 'long') return;
    assert.equal(f.c, 0x08);
    assert.equal(f.a, 3);
    assert.equal(f.ci, 0x72);
    const captured = user(parseHex(sample('efe-waterstar').hex));
    // identical but for the access number (byte 8), the counter has not moved within a millisecond
    assert.deepEqual(Buffer.concat([f.data.subarray(0, 8), f.data.subarray(9)]), Buffer.concat([captured.subarray(0, 8), captured.subarray(9)]));
    const emu = decodeFrame(sim.handle(req(4, true))!);
    assert.equal(emu.kind === 'long' && emu.data.subarray(0, 4).toString('hex'), '78563412');
  });

  it('repeats the last answer for a repeated FCB and advances on a toggled one', () => {
    const sim = new MbusSimulator({ slaves: [{ primary: 1, sample: sample('slb-cf-integral') }] });
    sim.handle(sndNke(1));
    const a = sim.handle(req(1, true))!;
    const again = sim.handle(req(1, true))!;
    const next = sim.handle(req(1, false))!;
    assert.deepEqual(again, a);
    assert.equal(next[15], (a[15] + 1) & 0xff, 'new access number');
  });

  it('advances the energy counter with (simulated) time', async () => {
    const sim = new MbusSimulator({ slaves: [{ primary: 3, sample: sample('efe-waterstar') }], speed: 36_000 }); // 1 s = 10 h
    await new Promise((r) => setTimeout(r, 300));
    const f = decodeFrame(sim.handle(req(3, true))!);
    if (f.kind !== 'long') throw new Error('no long frame');
    const volume = readCounter(f.data, counterRecord(f.data)!);
    // 0.3 s * 10 h/s * 40 l/h = 120 l on top of the captured 332 l
    assert.ok(volume >= 332 + 110 && volume <= 332 + 160, `volume ${volume}`);
  });

  it('selects by secondary address with wildcards; several matches give garbled bytes', () => {
    const sim = new MbusSimulator({ slaves: [
      { primary: 1, sample: sample('efe-waterstar'), id: '12345678' },
      { primary: 2, sample: sample('efe-waterstar'), id: '12345679' },
      { primary: 3, sample: sample('slb-cf-integral'), id: '55000000' },
    ] });
    const mask = (id: string, manufacturer: string | null = null) => selectFrame({ id, manufacturer, version: null, medium: null });
    assert.deepEqual(sim.handle(mask('12345678')), Buffer.from([0xe5]));
    const sel = decodeFrame(sim.handle(req(0xfd, true))!);
    assert.equal(sel.kind === 'long' && sel.data.subarray(0, 4).toString('hex'), '78563412');
    assert.equal(sim.handle(mask('77FFFFFF')), null);
    const both = sim.handle(mask('1234567F'))!;
    const split = new FrameSplitter().push(both);
    assert.equal(split.frames.length, 0, `no clean frame in ${both.toString('hex')}`);
    assert.ok(split.garbage > 0);
    assert.equal(sim.stats.collisions, 1);
    assert.deepEqual(sim.handle(mask('FFFFFFFF', 'SLB')), Buffer.from([0xe5]), 'manufacturer narrows the selection');
    assert.equal(garble([Buffer.from([0xe5])]).equals(Buffer.from([0xe5])), false);
  });

  it('injects faults: silence, a bad checksum, a collision', () => {
    const sim = new MbusSimulator({ slaves: [{ primary: 1, sample: sample('slb-cf-integral') }] });
    sim.setFault(1, 'silent');
    assert.equal(sim.handle(req(1, true)), null);
    sim.setFault(1, 'checksum');
    assert.throws(() => decodeFrame(sim.handle(req(1, false))!), (e: Error) => {
      const m = /checksum 0x(..), expected 0x(..) \(at byte 96\)/.exec(e.message);
      return !!m && (parseInt(m[1], 16) ^ 0x5a) === parseInt(m[2], 16);
    });
    sim.setFault(1, 'collision');
    const seen = new FrameSplitter().push(sim.handle(req(1, true))!);
    assert.ok(seen.garbage > 0 && seen.frames.every((f) => { try { return decodeFrame(f).kind !== 'long'; } catch { return true; } }), 'garbage, never a clean telegram');
  });

  it('splits a telegram into two with "more records follow"', () => {
    const sim = new MbusSimulator({ slaves: [{ primary: 4, sample: sample('emu-professional'), split: true }] });
    const one = decodeFrame(sim.handle(req(4, true))!);
    const two = decodeFrame(sim.handle(req(4, false))!);
    if (one.kind !== 'long' || two.kind !== 'long') throw new Error('long frames expected');
    assert.equal(one.data[one.data.length - 1], 0x1f);
    const whole = user(parseHex(sample('emu-professional').hex));
    assert.equal(one.data.length - 13 + two.data.length - 12, whole.length - 12, 'every record once');
  });

  it('parses its command line and names bad values', () => {
    const o = mbusCli.parse({ port: '0', slave: ['7:efe-waterstar:12345678:split'], fault: ['7:checksum'] });
    assert.equal(o.sim.slaves[0].id, '12345678');
    assert.equal(o.sim.slaves[0].split, true);
    assert.equal(o.sim.slaves[0].fault, 'checksum');
    assert.equal(mbusCli.parse({}).sim.slaves.length, 4);
    assert.throws(() => parseSlave('300:efe-waterstar'), (e: Error) => e instanceof UsageError && /primary address 0..250/.test(e.message));
    assert.throws(() => parseSlave('1:kamstrup'), /names no telegram; known: slb-cf-integral/);
    assert.throws(() => mbusCli.parse({ slave: ['1:efe-waterstar'], fault: ['1:smoke'] }), /kind "smoke"/);
  });

  it('serves TCP and stops cleanly', async () => {
    const sim = await mbusCli.start(mbusCli.parse({ port: '0' }));
    assert.match(sim.describe(), /^M-Bus tcp 127\.0\.0\.1:\d+: 1\/11817314 SLB slb-cf-integral/);
    await sim.close();
  });
});
