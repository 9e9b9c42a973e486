import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleFault, splitFaultWindow } from '../../lib/sim/fault-window';
import { g13Cli } from '../../lib/sim/g13/cli';
import { lorawanPlatformCli } from '../../lib/sim/lorawan-platform/cli';
import { modbusMeterCli } from '../../lib/sim/modbus-meter/cli';
import { G13Simulator } from '../../lib/sim/g13';

describe('outages staged from the ems-sim command line (--fault ...@AFTER+FOR)', () => {
  it('splits a fault from its time window, and refuses a bad window naming it', () => {
    assert.deepEqual(splitFaultWindow('3:dead@60+300'), { spec: '3:dead', window: { afterMs: 60_000, forMs: 300_000 } });
    assert.deepEqual(splitFaultWindow('ABB_8:offline@0.5'), { spec: 'ABB_8:offline', window: { afterMs: 500, forMs: undefined } });
    assert.deepEqual(splitFaultWindow('3:dead'), { spec: '3:dead' });
    assert.throws(() => splitFaultWindow('3:dead@soon'), /--fault: "3:dead@soon" has a bad time window after @/);
  });

  it('switches a fault on after AFTER and off after FOR', async () => {
    const seen: string[] = [];
    const t0 = Date.now();
    const cancel = scheduleFault({ afterMs: 50, forMs: 100 }, () => seen.push(`on ${Date.now() - t0}`), () => seen.push(`off ${Date.now() - t0}`));
    await new Promise((r) => setTimeout(r, 400));
    cancel();
    assert.equal(seen.length, 2, seen.join(', '));
    assert.ok(Number(seen[0].split(' ')[1]) >= 45 && Number(seen[1].split(' ')[1]) >= 145, seen.join(', '));
  });

  it('each simulator parses its outage option and names bad ones', () => {
    assert.deepEqual(g13Cli.parse({ fault: ['ABB_8:offline@60+600', 'gateway:offline@10'] }).faults,
      [{ target: 'ABB_8', window: { afterMs: 60_000, forMs: 600_000 } }, { target: 'gateway', window: { afterMs: 10_000, forMs: undefined } }]);
    assert.throws(() => g13Cli.parse({ fault: ['ABB_77:offline'] }), /--fault: "ABB_77:offline" names "ABB_77", which is neither gateway nor a simulated meter/);
    assert.throws(() => g13Cli.parse({ fault: ['ABB_8:slow'] }), /is not WHO:offline/);
    assert.deepEqual(lorawanPlatformCli.parse({ fault: ['unreachable@30+120'] }).faults, [{ afterMs: 30_000, forMs: 120_000 }]);
    assert.throws(() => lorawanPlatformCli.parse({ fault: ['down@1'] }), /--fault: "down@1" is not unreachable/);
    const m = modbusMeterCli.parse({ units: '1,2', fault: ['1:timeout@30+120', '2:dead'] });
    assert.deepEqual(m.timed, [{ unit: 1, fault: { kind: 'timeout' }, window: { afterMs: 30_000, forMs: 120_000 } }]);
    assert.deepEqual(m.sim.units.find((u) => u.unit === 2)!.fault, { kind: 'dead' });
    assert.equal(m.sim.units.find((u) => u.unit === 1)!.fault, undefined, 'a timed fault is not on from the start');
  });

  it('a started G13 simulator describes its staged outage; setMeterOffline names an unknown meter', async () => {
    const running = await g13Cli.start({ host: '127.0.0.1', port: 0, sim: { tls: false }, faults: [{ target: 'ABB_8', window: { afterMs: 50, forMs: 150 } }] });
    try {
      assert.match(running.describe(), /faults ABB_8 offline \(from 0\.05 s for 0\.15 s\)/);
    } finally {
      await running.close();
    }
    const sim = new G13Simulator({ tls: false });
    sim.setMeterOffline('ABB_8', true);
    assert.equal(sim.gateway.meter('ABB_8')!.spec.offline, true);
    assert.throws(() => sim.setMeterOffline('NOPE', true), /meter "NOPE" is not simulated/);
  });
});
