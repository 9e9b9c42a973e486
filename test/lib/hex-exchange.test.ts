import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exchange, parseHex, parsePollSpec, preparePoll, TcpLink, toHex } from '../../lib/protocols/hex';
import { HexSimulator, DEFAULT_HEX_PAIRS } from '../../lib/sim/hex';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';

describe('HEX exchange against the TCP responder', () => {
  let sim: HexSimulator;
  let port: number;
  let modbus: ModbusMeterSimulator;
  let modbusPort: number;
  let iec: Iec62056Simulator;
  let iecPort: number;
  const links: TcpLink[] = [];
  const link = async (p = port) => { const l = await TcpLink.open('127.0.0.1', p); links.push(l); return l; };

  before(async () => {
    sim = new HexSimulator({ pairs: [...DEFAULT_HEX_PAIRS, { request: '0102030405060708090A', response: 'AABBCC' }], replyChunk: 3 });
    port = await sim.listen(0);
    modbus = new ModbusMeterSimulator({ units: [{ unit: 7, profile: 'eastron-sdm630' }], framing: 'rtu-over-tcp' });
    modbusPort = await modbus.listen(0);
    iec = new Iec62056Simulator({ meters: [{ address: '12345678', profile: findSimMeter('iskra-mt174')! }] });
    iecPort = await iec.listen(0);
  });
  after(async () => {
    for (const l of links) await l.close();
    await sim.close();
    await modbus.close();
    await iec.close();
  });

  it('sends the dictionary example request and decodes the registers (230.5 as float32)', async () => {
    const poll = preparePoll(parsePollSpec('modbus-rtu:010300000002C40B'), { address: '1' });
    const r = await exchange(await link(), poll.frames, { waitingMs: 1000, complete: poll.complete });
    assert.equal(toHex(r.responses[0]), '010304436680006E68');
    const d = poll.decode(r.responses, { meter: 'm', address: '1', time: 0 });
    assert.deepEqual(d.details.registers, ['43668000']);
    assert.equal(Buffer.from('43668000', 'hex').readFloatBE(0), 230.5);
  });

  it('splits a frame into package_size chunks with pause_time between them, and gathers a response sent in pieces', async () => {
    const before = sim.stats.chunks.length;
    const started = Date.now();
    const r = await exchange(await link(), [parseHex('0102030405060708090A')], { waitingMs: 1000, pauseMs: 60, packageSize: 4, gapMs: 100 });
    assert.deepEqual(sim.stats.chunks.slice(before), [4, 4, 2]);
    assert.deepEqual(r.chunks, [3]);
    assert.ok(Date.now() - started >= 120, 'two pauses of 60 ms');
    assert.equal(toHex(r.responses[0]), 'AABBCC');
  });

  it('fails when no answer comes within waiting_time', async () => {
    const started = Date.now();
    await assert.rejects(exchange(await link(), [parseHex('FFFF')], { waitingMs: 250 }), /no response to frame 1 within 250 ms/);
    const took = Date.now() - started;
    assert.ok(took >= 240 && took < 1500, `waited ${took} ms`);
    sim.delayMs = 400;
    await assert.rejects(exchange(await link(), [parseHex('010300000002C40B')], { waitingMs: 200 }), /within 200 ms/);
    sim.delayMs = 0;
  });

  it('builds Modbus RTU requests from a profile and turns the answers into readings', async () => {
    modbus.setFixed(7, '1-0:1.8.0', 1234.5);
    const poll = preparePoll(parsePollSpec('modbus-rtu:eastron-sdm630'), { address: '7' });
    assert.equal(poll.frames[0][0], 7);
    const r = await exchange(await link(modbusPort), poll.frames, { waitingMs: 1000, pauseMs: 10, complete: poll.complete });
    const d = poll.decode(r.responses, { meter: 'sdm', address: '7', time: 5 });
    const e = d.readings.find((x) => x.obis === '1-0:1.8.0')!;
    assert.deepEqual([e.meter, e.time, e.value, e.unit], ['sdm', 5, 1234.5, 'kWh']);
  });

  it('reads an IEC 62056-21 meter through the poll server (sign-on + ACK frames)', async () => {
    const poll = preparePoll(parsePollSpec('iec62056-21'), { address: '12345678' });
    assert.deepEqual(poll.frames.map((f) => f.toString('latin1')), ['/?12345678!\r\n', '\x06000\r\n']);
    const r = await exchange(await link(iecPort), poll.frames, { waitingMs: 2000, complete: poll.complete });
    const d = poll.decode(r.responses, { meter: 'iec', address: '12345678', time: Date.now() });
    const e = d.readings.find((x) => x.obis === '1-0:1.8.0')!;
    assert.ok(e.value >= 502.853 && e.value < 503, `1.8.0 = ${e.value}`);
    assert.ok(Math.abs(e.time - Date.now()) < 5000, 'time from the meter clock');
  });
});
