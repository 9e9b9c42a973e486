/**
 * mbpoll (Debian's Modbus master, libmodbus) reads the Modbus meter simulator: a client we did not
 * write. Skips when mbpoll is missing (EMS_MBPOLL overrides the path), fails instead when CI or
 * EMS_REQUIRE_PEERS is set.
 *
 * mbpoll's -r is a 1-based reference (-r 1 = protocol address 0) unless -0 is given; its 32-bit
 * types use little-endian word order (CDAB) unless -B.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { FIXTURE_PROFILES, findExecutable, missingPeer } from '../fixtures/sim/peers';

const MBPOLL = findExecutable('mbpoll', 'EMS_MBPOLL');
const opts = missingPeer(MBPOLL ? undefined : process.env.EMS_MBPOLL
  ? `EMS_MBPOLL=${process.env.EMS_MBPOLL} does not exist`
  : 'mbpoll not found on PATH (apt-get install mbpoll, or set EMS_MBPOLL)');

let sim: ModbusMeterSimulator;
let port = 0;
const NOW = Date.UTC(2024, 2, 12, 19, 15); // a frozen clock: the model's values do not move between reads

before(async () => {
  if (opts.skip) return;
  sim = new ModbusMeterSimulator({
    profileDirs: [FIXTURE_PROFILES],
    clock: () => NOW,
    units: [
      { unit: 1, profile: 'sim-test-3phase' },
      { unit: 2, profile: 'sim-test-3phase', fault: { kind: 'dead' } },
      { unit: 3, profile: 'sim-test-strict' },
    ],
  });
  port = await sim.listen(0);
});

after(async () => {
  await sim?.close();
});

interface Poll { code: number; values: Map<number, number>; stdout: string; stderr: string }

/** Runs mbpoll once (-1) against the simulator and parses its "[ref]: value" lines. */
function mbpoll(args: string[]): Promise<Poll> {
  return new Promise((resolve, reject) => {
    execFile(MBPOLL!, ['-m', 'tcp', '-p', String(port), '-1', ...args, '127.0.0.1'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      const values = new Map<number, number>();
      for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) values.set(Number(m[1]), Number(m[2]));
      resolve({ code: err ? (err.code as number) : 0, values, stdout, stderr });
    });
  });
}

/** mbpoll prints floats with 6 significant digits. */
function close6(printed: number, model: number, what: string): void {
  assert.ok(Math.abs(printed - model) <= Math.abs(model) * 1e-5 + 1e-9, `${what}: mbpoll printed ${printed}, the model says ${model}`);
}

test('mbpoll reads the phase voltages as big-endian floats: ~230 V, equal to the model', opts, async () => {
  const r = await mbpoll(['-a', '1', '-t', '3:float', '-B', '-r', '1', '-c', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...r.values.keys()], [1, 3, 5]);
  ['1-0:32.7.0', '1-0:52.7.0', '1-0:72.7.0'].forEach((obis, i) => {
    const v = r.values.get(1 + 2 * i)!;
    assert.ok(v > 225.4 && v < 234.6, `${obis} = ${v} V, not within 230 V ± 2 %`);
    close6(v, sim.valueOf(1, obis), obis);
  });
  const e = await mbpoll(['-a', '1', '-t', '3:float', '-B', '-r', '73', '-c', '1']);
  close6(e.values.get(73)!, sim.valueOf(1, '1-0:1.8.0'), 'import energy');
});

test('reference numbering: -r 71 and -0 -r 70 both read protocol address 70 (frequency), set to an exact value', opts, async () => {
  sim.setFixed(1, '1-0:14.7.0', 49.87);
  try {
    const oneBased = await mbpoll(['-a', '1', '-t', '3:float', '-B', '-r', '71']);
    const zeroBased = await mbpoll(['-a', '1', '-t', '3:float', '-B', '-0', '-r', '70']);
    assert.equal(oneBased.values.get(71), 49.87, oneBased.stdout);
    assert.equal(zeroBased.values.get(70), 49.87, zeroBased.stdout);
  } finally {
    sim.setFixed(1, '1-0:14.7.0', undefined);
  }
});

test('exact registers: a scaled int16 and a uint32 in CDAB word order (mbpoll default)', opts, async () => {
  sim.setFixed(3, '1-0:32.7.0', 231.4);
  sim.setFixed(1, '1-0:15.8.0', 123456789);
  try {
    const v = await mbpoll(['-a', '3', '-t', '4', '-r', '1', '-c', '4']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.values.get(1), 2314, 'voltage 231.4 V with scale 0.1');
    const f = v.values.get(4)! / 100;
    assert.ok(f > 49.5 && f < 50.5, `frequency ${f} Hz`);
    const wh = await mbpoll(['-a', '1', '-t', '4:int', '-r', '1', '-c', '1']);
    assert.equal(wh.values.get(1), 123456789, wh.stdout);
  } finally {
    sim.setFixed(3, '1-0:32.7.0', undefined);
    sim.setFixed(1, '1-0:15.8.0', undefined);
  }
});

test('mbpoll on a dead unit reports a timeout; an unmapped register reports illegal data address', opts, async () => {
  const dead = await mbpoll(['-a', '2', '-t', '3', '-r', '1', '-c', '2', '-o', '0.5']);
  assert.notEqual(dead.code, 0);
  assert.match(dead.stderr, /timed out/i);
  assert.equal(dead.values.size, 0);
  const live = await mbpoll(['-a', '1', '-t', '3', '-r', '1', '-c', '2', '-o', '0.5']);
  assert.equal(live.code, 0, 'unit 1 on the same port still answers');
  const gap = await mbpoll(['-a', '3', '-t', '4', '-r', '1', '-c', '12']);
  assert.notEqual(gap.code, 0);
  assert.match(gap.stderr, /Illegal data address/);
  assert.ok(sim.stats.units[2].dropped >= 1);
});
