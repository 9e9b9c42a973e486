// ems-modbus-meter against a Modbus server we did not write: Debian's pymodbus serving the register
// image of two meters as their manuals define it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import modbusClient from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { encodeValue, loadProfile, planReads, resolveValues } from '../../lib/protocols/modbus';
import type { Reading } from '../../lib/model';
import { ROOT, findPymodbusPython, missingPeer } from '../fixtures/sim/peers';

helper.init(require.resolve('node-red'));
const peer = findPymodbusPython();

type Image = Record<string, { holding: Record<string, number>; input: Record<string, number> }>;

/** Every register the node's plan reads exists (0 unless set), so gaps inside blocks are readable. */
function imageFor(profileId: string, words: Record<string, number[]>, filler: Record<string, number> = {}) {
  const profile = loadProfile(profileId);
  const tables = { holding: {} as Record<string, number>, input: {} as Record<string, number> };
  for (const b of planReads(profile).blocks) for (let r = b.start; r < b.start + b.count; r++) tables[b.table][r] = 0;
  // Other values get a distinct plain value so every decode path is exercised.
  for (const v of resolveValues(profile)) {
    const raw = filler[v.obis];
    if (raw === undefined) continue;
    const bytes = encodeValue(raw, v);
    for (let i = 0; i < bytes.length / 2; i++) tables[v.table][v.register + i] = bytes.readUInt16BE(i * 2);
  }
  for (const [key, ws] of Object.entries(words)) {
    const [table, reg] = key.split(':') as ['holding' | 'input', string];
    ws.forEach((w, i) => { tables[table][Number(reg) + i] = w; });
  }
  return tables;
}

describe('ems-modbus-meter reading a pymodbus server', missingPeer(peer.reason), () => {
  let server: ChildProcess;
  let port: number;
  let dir: string;

  before(async () => {
    const image: Image = {
      // Eastron SDM630: input registers, float32 ABCD. Words written by hand from IEEE 754:
      // 230.5 V = 0x43668000 at 30001; 12345.5 kWh = 0x4640E600 at 30073 (0x0048).
      1: imageFor('eastron-sdm630', { 'input:0': [0x4366, 0x8000], 'input:72': [0x4640, 0xe600] }, { '1-0:14.7.0': 50.02 }),
      // ABB A44: holding registers, energy uint64 in 0.01 kWh at 0x5000; voltage uint32 in 0.1 V at 0x5B00.
      2: imageFor('abb-a44', { 'holding:20480': [0x0000, 0x0000, 0x075b, 0xcd15], 'holding:23296': [0x0000, 0x0901] }, { '1-0:14.7.0': 4998 }),
    };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-pymodbus-'));
    const file = path.join(dir, 'registers.json');
    fs.writeFileSync(file, JSON.stringify(image));
    server = spawn(peer.python!, [path.join(ROOT, 'scripts', 'pymodbus-server.py'), '--port', '0', '--registers', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    server.stderr!.on('data', (d) => { err += d; });
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pymodbus server did not start: ${err}`)), 20_000);
      server.stdout!.on('data', (d) => {
        const m = /ready (\d+)/.exec(String(d));
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      server.once('exit', (code) => reject(new Error(`pymodbus server exited ${code}: ${err}`)));
    });
    await new Promise<void>((r) => helper.startServer(r));
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    server?.kill('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decodes what the pymodbus server holds, for a float32 and a uint64 meter', async () => {
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'bus', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: '1000', retries: '0' },
      { id: 'n-sdm', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'sdm', unit: '1', profile: 'eastron-sdm630', wires: [['out']] },
      { id: 'n-abb', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'abb', unit: '2', profile: 'abb-a44', wires: [['out']] },
      { id: 'n-ghost', z: 'tab', type: 'ems-modbus-meter', client: 'bus', meterId: 'ghost', unit: '9', profile: 'abb-a44', wires: [['out']] },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load([modbusClient, modbusMeter], flow);
    const msgs: any[] = [];
    const both = new Promise<void>((r) => helper.getNode('out').on('input', (m: any) => { msgs.push(m); if (msgs.length === 2) r(); }));
    const caught = new Promise<any>((r) => helper.getNode('caught').once('input', r));
    helper.getNode('n-sdm').receive({});
    helper.getNode('n-abb').receive({});
    helper.getNode('n-ghost').receive({});
    await both;
    const value = (meter: string, obis: string) => (msgs.find((m) => m.topic === meter).payload as Reading[]).find((r) => r.obis === obis);
    assert.deepEqual([value('sdm', '1-0:32.7.0')!.value, value('sdm', '1-0:32.7.0')!.unit], [230.5, 'V']);
    assert.deepEqual([value('sdm', '1-0:1.8.0')!.value, value('sdm', '1-0:1.8.0')!.unit], [12345.5, 'kWh']);
    assert.equal(value('sdm', '1-0:14.7.0')!.value, 50.02);
    assert.deepEqual([value('abb', '1-0:1.8.0')!.value, value('abb', '1-0:1.8.0')!.unit], [1234567.89, 'kWh']);
    assert.equal(value('abb', '1-0:32.7.0')!.value, 230.5);
    assert.equal(value('abb', '1-0:14.7.0')!.value, 49.98);
    // A unit the server does not have never answers: the poll fails naming it, and nothing is emitted for it.
    assert.match((await caught).error.message, /meter "ghost" unit 9 \(abb-a44\): holding registers \d+\.\.\d+: no answer within 1000 ms/);
    assert.equal(msgs.filter((m) => m.topic === 'ghost').length, 0);
  });
});
