/**
 * scripts/pymodbus-server.py (pymodbus from Debian, run with /usr/bin/python3 or EMS_PYTHON) read by
 * modbus-serial: the peer the Node-RED node tests use is itself checked here. Skips when pymodbus is
 * missing, fails instead when CI or EMS_REQUIRE_PEERS is set.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import ModbusRTU from 'modbus-serial';
import { findPymodbusPython, missingPeer, ROOT } from '../fixtures/sim/peers';

const peer = findPymodbusPython();
const opts = missingPeer(peer.reason);
const SCRIPT = path.join(ROOT, 'scripts', 'pymodbus-server.py');
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts the server on a free port with the given registers; resolves once it prints "ready <port>". */
async function startServer(registers: unknown): Promise<{ port: number; child: ChildProcess; stderr: () => string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-pymodbus-'));
  const file = path.join(dir, 'registers.json');
  fs.writeFileSync(file, JSON.stringify(registers));
  const child = spawn(peer.python!, [SCRIPT, '--port', '0', '--registers', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pymodbus-server did not print "ready" within 15 s: ${err}`)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^ready (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pymodbus-server exited ${code}: ${err}`));
    });
  });
  child.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return { port, child, stderr: () => err };
}

test(`pymodbus-server.py serves the JSON registers (pymodbus ${peer.version ?? 'missing'})`, opts, async () => {
  const float = Buffer.alloc(4);
  float.writeFloatBE(230.4);
  const { port, child, stderr } = await startServer({
    1: { holding: { 0: float.readUInt16BE(0), 1: float.readUInt16BE(2), 2: 0x1234, 3: 0x5678, 10: 2301 }, input: { 0: 0x4248, 1: 0, 100: 65535 } },
    2: { input: { 0: 1, 1: 2, 2: 3 } },
  });
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setTimeout(1000);
  try {
    c.setID(1);
    const h = await c.readHoldingRegisters(0, 4);
    assert.ok(Math.abs(h.buffer.readFloatBE(0) - 230.4) < 1e-4, `float ${h.buffer.readFloatBE(0)}`);
    assert.deepEqual(h.data.slice(2), [0x1234, 0x5678]);
    assert.deepEqual((await c.readHoldingRegisters(10, 1)).data, [2301], 'address 10 is protocol address 10 (zero_mode)');
    assert.equal((await c.readInputRegisters(0, 2)).buffer.readFloatBE(0), 50);
    assert.deepEqual((await c.readInputRegisters(100, 1)).data, [65535]);
    // Registers not listed do not exist: exception 02, also for a block spanning a hole.
    await assert.rejects(() => c.readHoldingRegisters(4, 1), (e: Error & { modbusCode?: number }) => e.modbusCode === 2);
    await assert.rejects(() => c.readHoldingRegisters(0, 11), (e: Error & { modbusCode?: number }) => e.modbusCode === 2);
    c.setID(2);
    assert.deepEqual((await c.readInputRegisters(0, 3)).data, [1, 2, 3]);
    await assert.rejects(() => c.readHoldingRegisters(0, 1), (e: Error & { modbusCode?: number }) => e.modbusCode === 2, 'unit 2 has no holding registers');
    // A unit id not in the file: pymodbus 3.0.0rc1 drops the frame, the client times out.
    c.setID(9);
    c.setTimeout(400);
    await assert.rejects(() => c.readInputRegisters(0, 1), (e: Error & { errno?: string }) => e.errno === 'ETIMEDOUT');
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr());
});

test('pymodbus-server.py refuses a bad register file naming the unit, address and value', opts, async () => {
  await assert.rejects(() => startServer({ 1: { holding: { 0: 70000 } } }), /unit 1 holding 0 = 70000 is not a uint16 word/);
  await assert.rejects(() => startServer({ x: { holding: {} } }), /unit "x" is not a unit id/);
});
