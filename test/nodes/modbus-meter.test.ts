import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import modbusClient from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const nextMessage = (id: string) => new Promise<any>((resolve) => helper.getNode(id).once('input', resolve));

function flow(port: number, meters: Record<string, unknown>[], client: Record<string, unknown> = {}) {
  const f: any[] = [
    { id: 'tab', type: 'tab' },
    { id: 'bus', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: '300', retries: '0', ...client },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  for (const m of meters) f.push({ z: 'tab', type: 'ems-modbus-meter', client: 'bus', unit: '1', profile: 'eastron-sdm630', wires: [['out']], ...m });
  return f;
}

describe('ems-modbus-meter', () => {
  let sim: ModbusMeterSimulator;
  let port: number;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(async () => {
    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 2, profile: 'abb-a44' }, { unit: 3, profile: 'carlo-gavazzi-em24' }] });
    port = await sim.listen(0);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('emits canonical readings of the meter with the values the meter holds', async () => {
    sim.setFixed(1, '1-0:32.7.0', 231.7);
    sim.setFixed(1, '1-0:1.8.0', 12345.67);
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'main-incomer', interval: '0', ctRatio: '1', vtRatio: '1' }]));
    const got = nextMessage('out');
    helper.getNode('m1').receive({ payload: 'tick' });
    const msg = await got;
    const byObis = new Map((msg.payload as Reading[]).map((r) => [r.obis, r]));
    assert.equal(msg.topic, 'main-incomer');
    assert.deepEqual({ ...byObis.get('1-0:32.7.0'), time: 0 }, { meter: 'main-incomer', time: 0, obis: '1-0:32.7.0', value: 231.7, unit: 'V' });
    assert.equal(byObis.get('1-0:1.8.0')!.value, 12345.67);
    assert.equal(byObis.get('1-0:1.8.0')!.unit, 'kWh');
    const f = byObis.get('1-0:14.7.0')!;
    assert.ok(f.value > 49.5 && f.value < 50.5, `frequency ${f.value}`);
    assert.ok(Math.abs(byObis.get('1-0:32.7.0')!.time - Date.now()) < 5000);
    assert.equal(msg.meter.profile, 'eastron-sdm630');
    assert.ok(msg.meter.requests >= 1 && msg.meter.requests < msg.payload.length, 'registers are read in blocks');
    assert.equal(msg.source.find((s: any) => s.obis === '1-0:32.7.0').register, 0);
  });

  it('reads 64-bit and word-swapped meters on the same bus (ABB A44, Carlo Gavazzi EM24)', async () => {
    sim.setFixed(2, '1-0:1.8.0', 4321.09);
    sim.setFixed(3, '1-0:1.8.0', 987.6);
    await helper.load([modbusClient, modbusMeter], flow(port, [
      { id: 'abb', meterId: 'hvac', unit: '2', profile: 'abb-a44' },
      { id: 'cg', meterId: 'lighting', unit: '3', profile: 'carlo-gavazzi-em24' },
    ]));
    const out = helper.getNode('out');
    const msgs: any[] = [];
    const two = new Promise<void>((r) => out.on('input', (m: any) => { msgs.push(m); if (msgs.length === 2) r(); }));
    helper.getNode('abb').receive({});
    helper.getNode('cg').receive({});
    await two;
    const energy = (id: string) => (msgs.find((m) => m.topic === id).payload as Reading[]).find((r) => r.obis === '1-0:1.8.0')!.value;
    assert.equal(energy('hvac'), 4321.09);
    assert.equal(energy('lighting'), 987.6);
  });

  it('takes unit and profile overrides from the message', async () => {
    sim.setFixed(2, '1-0:1.8.0', 55.5);
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'x' }]));
    const got = nextMessage('out');
    helper.getNode('m1').receive({ unit: 2, profile: 'abb-a44', topic: 'override' });
    const msg = await got;
    assert.equal(msg.meter.unit, 2);
    assert.equal(msg.topic, 'override');
    assert.equal((msg.payload as Reading[]).find((r) => r.obis === '1-0:1.8.0')!.value, 55.5);
  });

  it('reports a dead unit to Catch naming meter, unit and registers, while another unit keeps answering', async () => {
    sim.setFault(2, { kind: 'dead' });
    await helper.load([modbusClient, modbusMeter], flow(port, [
      { id: 'dead', meterId: 'hvac', unit: '2', profile: 'abb-a44' },
      { id: 'alive', meterId: 'main' },
    ]));
    const caught = nextMessage('caught');
    const out = nextMessage('out');
    helper.getNode('dead').receive({ payload: 1 });
    helper.getNode('alive').receive({ payload: 2 });
    const err = await caught;
    assert.match(err.error.message, /^MeterPollError: meter "hvac" unit 2 \(abb-a44\): holding registers \d+\.\.\d+: no answer within 300 ms$/);
    assert.equal(err.payload, 1, 'the original message reaches Catch');
    assert.equal((await out).topic, 'main');
    // Next poll of the dead unit fails at once (backed off) and says so.
    const again = nextMessage('caught');
    const t0 = Date.now();
    helper.getNode('dead').receive({});
    assert.match((await again).error.message, /unit 2 skipped for \d+ s after 1 failed poll/);
    assert.ok(Date.now() - t0 < 250);
  });

  it('reports an exception answer', async () => {
    sim.setFault(1, { kind: 'exception', code: 2 });
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'main' }]));
    const caught = nextMessage('caught');
    helper.getNode('m1').receive({});
    assert.match((await caught).error.message, /meter "main" unit 1 \(eastron-sdm630\): input registers \d+\.\.\d+: exception 2 \(illegal data address\)/);
  });

  it('sends bad input to Catch with the field and value', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'main' }]));
    const caught = nextMessage('caught');
    helper.getNode('m1').receive({ unit: 300 });
    assert.match((await caught).error.message, /msg.unit must be a Modbus unit id 0..255, got 300/);
    const caught2 = nextMessage('caught');
    helper.getNode('m1').receive({ profile: 'no-such-meter' });
    assert.match((await caught2).error.message, /unknown profile "no-such-meter"/);
    const caught3 = nextMessage('caught');
    helper.getNode('m1').receive({ profile: { id: 'x' } });
    assert.match((await caught3).error.message, /profile "x": manufacturer is undefined, expected a non-empty string/);
  });

  it('refuses a bad configuration with a red status and a logged error', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'main', profile: 'nope' }]));
    const m1 = helper.getNode('m1');
    const logged = helper.log().args.flat().filter((e: any) => e && e.id === 'm1' && e.level === 20);
    assert.match(String(logged[0]?.msg), /meter "main": unknown profile "nope"/);
    let receivedOutput = false;
    helper.getNode('out').on('input', () => { receivedOutput = true; });
    m1.receive({});
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receivedOutput, false);
    await helper.unload();
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm2', meterId: 'custom', profile: 'custom', customProfile: '{ "id": ' }]));
    const errors = helper.log().args.flat().filter((e: any) => e && e.id === 'm2' && e.level === 20);
    assert.match(String(errors[0]?.msg), /meter "custom": customProfile is not valid JSON/);
  });

  it('fails fast with the cause when the bus cannot connect', async () => {
    await sim.close();
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'main' }]));
    const caught = nextMessage('caught');
    helper.getNode('m1').receive({});
    assert.match((await caught).error.message, /meter "main" unit 1 .*cannot open 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('shows in its status how many requests wait on the shared connection', async () => {
    sim.setFault(1, { kind: 'slow', delayMs: 60 });
    await helper.load([modbusClient, modbusMeter], flow(port, [
      { id: 'm1', meterId: 'a' }, { id: 'm2', meterId: 'b' }, { id: 'm3', meterId: 'c' },
    ]));
    const m1 = helper.getNode('m1');
    const texts: string[] = [];
    const original = m1.status.bind(m1);
    m1.status = (st: any) => { texts.push(st.text); return original(st); };
    const out = helper.getNode('out');
    let n = 0;
    const all = new Promise<void>((r) => out.on('input', () => { if (++n === 3) r(); }));
    for (const id of ['m1', 'm2', 'm3']) helper.getNode(id).receive({});
    await all;
    assert.ok(texts.some((t) => /kWh \d\d:\d\d:\d\d \(queue \d+\)$/.test(t)), texts.join(' | '));
  });

  it('recovers by itself when the gateway restarts', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'main' }]));
    // One listener each for the whole test: results arrive in order.
    const results: any[] = [];
    let wake = () => {};
    helper.getNode('out').on('input', (m: any) => { results.push({ ok: m }); wake(); });
    helper.getNode('caught').on('input', (m: any) => { results.push({ err: m.error.message }); wake(); });
    const poll = async () => {
      const before = results.length;
      helper.getNode('m1').receive({});
      while (results.length === before) await new Promise<void>((r) => { wake = r; });
      return results[before];
    };
    assert.ok((await poll()).ok);
    await sim.close();
    const down = await poll();
    assert.match(down.err, /meter "main" unit 1 .*(link lost|ECONNRE|not connected|cannot open)/i);
    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }] });
    await sim.listen(port);
    let result: any;
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 300));
      result = await poll();
    } while (!result.ok && Date.now() < deadline);
    assert.ok(result.ok, `still failing: ${result.err}`);
    assert.equal(result.ok.topic, 'main');
  });

  it('speaks Modbus RTU frames over TCP (serial-to-Ethernet converters)', async () => {
    const rtu = new ModbusMeterSimulator({ units: [{ unit: 5, profile: 'eastron-sdm120' }], framing: 'rtu-over-tcp' });
    const rtuPort = await rtu.listen(0);
    try {
      rtu.setFixed(5, '1-0:32.7.0', 229.9);
      await helper.load([modbusClient, modbusMeter], flow(rtuPort, [{ id: 'm1', meterId: 'sub', unit: '5', profile: 'eastron-sdm120' }], { transport: 'rtu-over-tcp' }));
      const got = nextMessage('out');
      helper.getNode('m1').receive({});
      const msg = await got;
      assert.equal((msg.payload as Reading[]).find((r) => r.obis === '1-0:32.7.0')!.value, 229.9);
      assert.equal(rtu.stats.framingErrors, 0);
    } finally {
      await helper.unload();
      await rtu.close();
    }
  });

  it('polls on its own interval and stops on close, releasing the connection', async () => {
    await helper.load([modbusClient, modbusMeter], flow(port, [{ id: 'm1', meterId: 'timed', interval: '0.2' }]));
    const first = await nextMessage('out');
    const second = await nextMessage('out');
    assert.equal(first.topic, 'timed');
    assert.ok(second.payload[0].time > first.payload[0].time);
    await helper.unload();
    const before = sim.stats.units[1].requests;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sim.stats.units[1].requests, before, 'no poll after close');
  });
});
