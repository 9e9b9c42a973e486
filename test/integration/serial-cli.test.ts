// ems-sim's serial modes: `modbus-meter --serial PATH --baud B --units 1-32` puts 32 meters on one RTU
// bus and `mbus --serial PATH --baud 2400` several slaves on one M-Bus, both paced at the line rate;
// our masters read them through the other end of a socat pty pair.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modbusMeterCli } from '../../lib/sim/modbus-meter/cli';
import { mbusCli } from '../../lib/sim/mbus/cli';
import { ModbusBus, ModbusSerialIO } from '../../lib/protocols/modbus';
import { MbusMaster, SerialTransport } from '../../lib/protocols/mbus';
import { openPtyPair, type PtyPair } from '../../lib/sim/serial';
import { UsageError, type RunningSimulator } from '../../lib/sim/registry';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

const socat = findExecutable('socat', 'EMS_SOCAT');

describe('ems-sim on a serial line', missingPeer(socat ? undefined : 'socat not found (apt-get install socat)'), () => {
  let dir: string;
  const pairs: PtyPair[] = [];
  const running: RunningSimulator[] = [];

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-sim-serial-')); });
  after(async () => {
    for (const r of running) await r.close();
    for (const p of pairs) await p.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses unit ranges and line formats, naming a bad value', () => {
    const o = modbusMeterCli.parse({ serial: '/dev/ttyX', baud: '19200', line: '8N2', units: ['1-32'] });
    assert.equal(o.sim.units.length, 32);
    assert.equal(o.port, undefined, 'serial only unless --port is given');
    assert.deepEqual(o.serial!.line, { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 2 });
    assert.throws(() => modbusMeterCli.parse({ serial: '/dev/ttyX', line: '9E1' }), (e: Error) => e instanceof UsageError && /--line: .*"9E1"/.test(e.message));
    assert.throws(() => modbusMeterCli.parse({ units: ['8-3'] }), /--units: range "8-3" runs backwards/);
    assert.equal(mbusCli.parse({ serial: '/dev/ttyX' }).serial!.line.baudRate, 2400);
  });

  it('modbus-meter --serial --units 1-32: every unit answers on the one bus', async () => {
    const pair = await openPtyPair(fs.mkdtempSync(path.join(dir, 'rtu-')), socat);
    pairs.push(pair);
    const sim = await modbusMeterCli.start(modbusMeterCli.parse({ serial: pair.slave, baud: '19200', units: ['1-32'], profile: 'eastron-sdm120' }));
    running.push(sim);
    assert.match(sim.describe(), /on .*ttySIM \(Modbus RTU 19200 8E1\)/);
    const bus = new ModbusBus(new ModbusSerialIO({ transport: 'rtu', path: pair.master, baudRate: 19200, parity: 'even' }), { baudRate: 19200, timeout: 500, retries: 0 });
    try {
      for (const unit of [1, 17, 32]) {
        const data = await within(bus.read(unit, 'input', 0, 2), 5000, `input registers 0..1 of unit ${unit}`);
        assert.ok(data.readFloatBE(0) > 200 && data.readFloatBE(0) < 260, `unit ${unit} voltage ${data.readFloatBE(0)}`);
      }
    } finally {
      await bus.close();
    }
  });

  it('mbus --serial --baud 2400: the slaves answer on the one bus', async () => {
    const pair = await openPtyPair(fs.mkdtempSync(path.join(dir, 'mbus-')), socat);
    pairs.push(pair);
    const sim = await mbusCli.start(mbusCli.parse({ serial: pair.slave, baud: '2400' }));
    running.push(sim);
    assert.match(sim.describe(), /serial .*ttySIM M-Bus 2400 8E1/);
    const master = new MbusMaster(new SerialTransport({ kind: 'serial', path: pair.master, baudRate: 2400, parity: 'even', dataBits: 8, stopBits: 1 }), { retries: 0 });
    try {
      for (const primary of [1, 3]) {
        const r = await within(master.read({ primary }), 10_000, `the RSP_UD of primary address ${primary}`);
        assert.ok(r.telegram.records.length > 0);
      }
    } finally {
      await master.close();
    }
  });
});
