import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpLink } from '../../lib/protocols/hex/link';
import { checkClock, program, readout } from '../../lib/protocols/iec62056-21';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';
import { iec62056Cli } from '../../lib/sim/iec62056/cli';
import { UsageError } from '../../lib/sim/registry';

describe('IEC 62056-21 sessions against the simulator (TCP converter)', () => {
  let sim: Iec62056Simulator;
  let port: number;
  const links: TcpLink[] = [];
  const link = async () => { const l = await TcpLink.open('127.0.0.1', port, true); links.push(l); return l; };

  before(async () => {
    sim = new Iec62056Simulator({
      meters: [
        { address: '12345678', profile: findSimMeter('iskra-mt174')!, password: '00000000', clockOffsetMs: 600_000 },
        { address: '22222222', profile: findSimMeter('landis-gyr-zmd310')!, password: 'SECRET' },
        { address: '33333333', profile: findSimMeter('emh-lzqj')! },
        { address: '44444444', profile: findSimMeter('abb-as1440')!, fault: 'bcc' },
        { address: '55555555', profile: findSimMeter('abb-as1440')!, fault: 'dead' },
      ],
    });
    port = await sim.listen(0);
  });
  after(async () => {
    for (const l of links) await l.close();
    await sim.close();
  });

  it('reads a mode C meter by its address and selects the speed it offers, capped by maxBaud', async () => {
    const l = await link();
    const r = await readout(l, { address: '22222222', maxBaud: 2400, timeoutMs: 2000 });
    assert.equal(r.identification.manufacturer, 'LGZ');
    assert.equal(r.identification.baud, 4800);
    assert.equal(r.baud, 2400);
    assert.deepEqual(sim.meter('22222222').stats.bauds.slice(-2), [300, 2400]);
    const energy = r.sets.find((s) => s.address === '1-1:1.8.0')!;
    assert.match(energy.values[0].value, /^000512\d\d$/);
    assert.equal(energy.values[0].unit, 'kWh');
  });

  it('reads a mode B meter (no option select) and a mode C meter with no address', async () => {
    const b = await readout(await link(), { address: '33333333' });
    assert.equal(b.identification.mode, 'B');
    assert.equal(b.baud, 300, 'a TCP converter keeps its speed');
    assert.deepEqual(sim.meter('33333333').stats.bauds.slice(-2), [300, 9600]);
    const c = await readout(await link(), {});
    assert.equal(c.identification.ident, 'MT174-0001');
  });

  it('reports a BCC error and a meter that never answers', async () => {
    await assert.rejects(readout(await link(), { address: '44444444' }), /BCC error: computed 0x[0-9a-f]{2}, received 0x[0-9a-f]{2}/);
    await assert.rejects(readout(await link(), { address: '55555555', timeoutMs: 300 }), /no identification from the meter within 300 ms/);
  });

  it('corrects a clock 10 minutes fast in programming mode (P1, W1 0.9.2 and 0.9.1, B0)', async () => {
    const l = await link();
    const r = await readout(l, { address: '12345678' });
    assert.ok(Math.abs(r.clock! - Date.now() - 600_000) < 3000, `meter clock ${new Date(r.clock!).toISOString()}`);
    const inTolerance = await checkClock(l, r, { address: '12345678', password: '00000000', toleranceSeconds: 900 });
    assert.equal(inTolerance?.corrected, false);
    const check = await checkClock(l, r, { address: '12345678', password: '00000000', toleranceSeconds: 60 });
    assert.equal(check?.corrected, true);
    assert.ok(Math.abs(check!.driftSeconds - 600) <= 2);
    assert.deepEqual(sim.meter('12345678').stats.writes.map((w) => w.address), ['0.9.2', '0.9.1']);
    assert.ok(Math.abs(sim.meter('12345678').clockOffsetMs) < 2000, `offset now ${sim.meter('12345678').clockOffsetMs} ms`);
    const again = await readout(l, { address: '12345678' });
    assert.ok(Math.abs(again.clock! - Date.now()) < 3000);
  });

  it('reads with R1 after P1 and refuses a wrong password with NAK', async () => {
    const l = await link();
    const s = await program(l, 'SECRET', { address: '22222222' });
    assert.match(await s.read('1.8.0'), /^000512\d\d\*kWh$/);
    await s.close();
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(program(l, 'WRONG', { address: '22222222' }), /refused the password P1 \(NAK\)/);
    assert.equal(sim.meter('22222222').stats.passwordsRefused, 1);
  });

  it('ems-sim iec62056 parses its options and names bad ones', () => {
    const o = iec62056Cli.parse({ meter: ['1:iskra-mt174', '2:abb-as1440'], 'clock-offset': '-30', fault: ['2:bcc'] });
    assert.deepEqual(o.meters.map((m) => [m.address, m.profile.id, m.clockOffsetMs, m.fault]), [['1', 'iskra-mt174', -30000, undefined], ['2', 'abb-as1440', 0 - 30000, 'bcc']]);
    assert.throws(() => iec62056Cli.parse({ meter: ['1:nope'] }), (e: Error) => e instanceof UsageError && /profile "nope"/.test(e.message));
    assert.throws(() => iec62056Cli.parse({ fault: ['9:dead'] }), /no meter at address "9"/);
  });
});
