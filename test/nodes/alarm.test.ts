import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import alarmNode, { STATE_KEY } from '../../nodes/alarm/alarm';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kw = (value: number, meter = 'main'): Reading => ({ meter, time: Date.now(), obis: '1-0:1.7.0', value, unit: 'kW' });
const FORM = { ruleMode: 'form', ruleName: 'Peak', condition: 'threshold', obis: '1-0:1.7.0', direction: 'above', threshold: '50', unit: 'kW', severity: 'warning', delay: '0', clearAfter: '0', hysteresis: '5', holdOff: '300', timeZone: 'UTC', interval: '15m' };

/** The node's id: a new one per test, as the node keeps its state across a stop and start of the same id. */
let id = 'alarm0';

function flow(config: Record<string, unknown>) {
  const f: any[] = [
    { id: 'tab', type: 'tab' },
    { id, z: 'tab', type: 'ems-alarm', ...FORM, listOutput: true, wires: [['out'], ['list']], ...config },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'list', z: 'tab', type: 'helper' },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  return f;
}

describe('ems-alarm', () => {
  let outs: any[];
  let lists: any[];
  let errors: any[];
  let statuses: any[];

  async function load(config: Record<string, unknown> = {}): Promise<void> {
    id = `alarm${Number(id.slice(5)) + 1}`;
    await helper.load(alarmNode, flow(config));
    listen();
  }
  function listen(): void {
    outs = [];
    lists = [];
    errors = [];
    statuses = [];
    helper.getNode('out').on('input', (m: any) => outs.push(m));
    helper.getNode('list').on('input', (m: any) => lists.push(m));
    helper.getNode('caught').on('input', (m: any) => errors.push(m));
    const n = helper.getNode(id) as any;
    const status = n.status.bind(n);
    n.status = (s: any) => { statuses.push(s); return status(s); };
  }
  /** Sends a msg and waits until its transitions and errors are out. */
  async function send(msg: any): Promise<void> {
    helper.getNode(id).receive(msg);
    await sleep(30);
  }

  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  it('raises and clears a threshold alarm from readings, with the open alarms on the second output and the status', async () => {
    await load();
    await send({ topic: 'main', payload: kw(62.3) });
    assert.equal(outs.length, 1);
    assert.equal(outs[0].topic, 'alarm/raised');
    assert.deepEqual([outs[0].payload.transition, outs[0].payload.rule, outs[0].payload.meterId, outs[0].payload.value, outs[0].payload.limit, outs[0].payload.unit],
      ['raised', 'Peak', 'main', 62.3, 50, 'kW']);
    assert.equal(outs[0].payload.message, 'Peak: 1-0:1.7.0 62.3 kW above 50 kW at main');
    assert.deepEqual(lists.at(-1).payload.map((a: any) => [a.id, a.state, a.meter]), [[1, 'raised', 'main']]);
    assert.deepEqual(statuses.at(-1), { fill: 'yellow', shape: 'dot', text: 'ems-alarm.status.open' }, 'an open warning');
    await send({ payload: [kw(47)] });
    assert.equal(outs.length, 1, '47 kW is inside the 5 kW hysteresis band');
    await send({ payload: [kw(44)] });
    assert.deepEqual(outs.map((m) => m.topic), ['alarm/raised', 'alarm/cleared']);
    assert.deepEqual(lists.at(-1).payload, []);
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'ems-alarm.status.ok' });
    assert.equal(errors.length, 0);
  });

  it('takes the ems-store-write output shape and evaluates the good readings of a message with a bad one, reporting it to Catch with the input unchanged', async () => {
    await load();
    const input = { topic: 'batch', stored: 3, payload: [kw(60, 'a'), { ...kw(60, 'b'), value: 'high' }, kw(70, 'c')] };
    await send(input);
    assert.deepEqual(outs.map((m) => `${m.topic} ${m.payload.meterId}`), ['alarm/raised a', 'alarm/raised c']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].error.message, 'Error: payload[1]: reading.value must be a finite number, got "high"');
    assert.equal(errors[0].topic, 'batch');
    assert.deepEqual(errors[0].payload, input.payload, 'Catch gets the input message unchanged');
    await send({ payload: 42 });
    assert.match(errors[1].error.message, /^Error: payload must be a reading \{meter, time, obis, value, unit\}, an array of readings or a poll result \{meter, ok\}, got 42$/);
  });

  it('acknowledges a raised alarm with topic "ack", and reports a bad ack naming the field', async () => {
    await load({ severity: 'critical' });
    await send({ payload: kw(80) });
    assert.deepEqual(statuses.at(-1), { fill: 'red', shape: 'dot', text: 'ems-alarm.status.open' });
    await send({ topic: 'ack', payload: { alarm: outs[0].payload.alarmId, note: 'fan checked', by: 'olga' } });
    assert.equal(outs[1].topic, 'alarm/acknowledged');
    assert.deepEqual([outs[1].payload.transition, outs[1].payload.by, outs[1].payload.note], ['acknowledged', 'olga', 'fan checked']);
    assert.deepEqual(lists.at(-1).payload.map((a: any) => [a.state, a.ackedBy]), [['acknowledged', 'olga']]);
    await send({ topic: 'ack', payload: { alarm: 9 } });
    assert.equal(errors[0].error.message, 'Error: payload.alarm 9 is unknown (not an open or recently cleared alarm of this node)');
    await send({ topic: 'ack', payload: { alarm: 1 } });
    assert.match(errors[1].error.message, /^Error: payload.alarm 1 is acknowledged \(by olga\)/);
    await send({ topic: 'alarms' });
    assert.equal(lists.at(-1).topic, 'alarms');
    assert.equal(lists.at(-1).payload.length, 1, 'the open alarms on request');
  });

  it('counts failed polls given as {ok} with the meter in msg.topic, from JSON rules', async () => {
    await load({ ruleMode: 'json', rules: JSON.stringify({ name: 'Polls', subject: { meter: 'm7' }, condition: { type: 'poll_failures', count: 2 }, severity: 'info' }), listOutput: false, wires: [['out']] });
    await send({ topic: 'm7', payload: { ok: false } });
    await send({ topic: 'other', payload: { ok: false } });
    assert.equal(outs.length, 0);
    await send({ topic: 'm7', payload: { ok: false } });
    assert.deepEqual(outs.map((m) => [m.topic, m.payload.meterId, m.payload.value]), [['alarm/raised', 'm7', 2]]);
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'ems-alarm.status.ok' }, 'only info alarms open');
    await send({ payload: { meter: 'm7', ok: true } });
    assert.equal(outs[1].topic, 'alarm/cleared');
  });

  it('raises a stale alarm on the clock, with the meter interval of the message', async () => {
    await load({ ruleMode: 'json', rules: JSON.stringify([{ name: 'Silent', condition: { type: 'stale', intervals: 1 } }]) });
    await send({ interval: '1s', payload: kw(5) });
    await send({ topic: 'tick' });
    assert.equal(outs.length, 0);
    await sleep(1100);
    await send({ topic: 'tick' });
    assert.deepEqual(outs.map((m) => [m.topic, m.payload.rule, m.payload.meterId, m.payload.limit, m.payload.unit]), [['alarm/raised', 'Silent', 'main', 1, 's']]);
    await send({ interval: 'soon', payload: kw(5) });
    assert.equal(errors[0].error.message, 'Error: msg.interval "soon" must be seconds or a duration such as "15m"');
  });

  it('keeps its alarms across a redeploy and in the node context; a changed rule clears them', async () => {
    await load();
    await send({ payload: kw(70) });
    await sleep(1100); // saved at most a second after the change
    const saved = helper.getNode(id).context().get(STATE_KEY) as any;
    assert.deepEqual([saved.version, saved.alarms.map((a: any) => [a.id, a.rule, a.state])], [1, [[1, 'Peak', 'raised']]]);
    const redeploy = async (config: Record<string, unknown>) => {
      await helper.setFlows(flow({ name: `v${Math.random()}`, ...config }), 'full');
      listen();
    };
    await redeploy({});
    await send({ topic: 'alarms' });
    assert.deepEqual(lists.at(-1).payload.map((a: any) => [a.id, a.rule, a.state]), [[1, 'Peak', 'raised']], 'still open after the redeploy');
    await send({ payload: kw(71) });
    assert.equal(outs.length, 0, 'no second raise');
    await redeploy({ threshold: '75' });
    await send({ topic: 'tick' });
    assert.deepEqual(outs.map((m) => [m.topic, m.payload.alarmId]), [['alarm/cleared', '1']]);
  });

  it('a bad configuration shows a red ring and sends every message to Catch with the problem', async () => {
    await load({ threshold: 'lots' });
    const node = helper.getNode(id) as any;
    const shown = (helper as any)._NodePrototype.status.getCalls().filter((c: any) => c.thisValue === node).map((c: any) => c.args[0]);
    assert.deepEqual(shown, [{ fill: 'red', shape: 'ring', text: 'ems-alarm.status.bad-config' }]);
    await send({ payload: kw(70) });
    assert.equal(errors[0].error.message, 'Error: ems-alarm: rule: condition.value "lots" must be a number from -1000000000000000 to 1000000000000000');
    await helper.unload();
    await load({ ruleMode: 'json', rules: JSON.stringify({ name: 'x', condition: { type: 'anomaly' } }) });
    await send({ payload: kw(70) });
    assert.match(errors[0].error.message, /condition.type "anomaly" is evaluated by the EMS only/);
  });

  it('answers the editor\'s check with the rules or the problem naming the field', async () => {
    await load();
    const good = await helper.request().post('/ems-alarm/check').send({ ...FORM, meter: 'main', activeDays: '1,2,3', activeFrom: '22:00', activeTo: '06:00' }).expect(200);
    assert.equal(good.body.ok, true);
    assert.deepEqual(good.body.rules, [{ name: 'Peak', subject: { meter: 'main' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' }, severity: 'warning' }]);
    const bad = await helper.request().post('/ems-alarm/check').send({ ...FORM, activeFrom: '25:00' }).expect(200);
    assert.deepEqual(bad.body, { ok: false, problem: 'rule: active.from "25:00" must be a local time "HH:MM"', rules: [] });
    const json = await helper.request().post('/ems-alarm/check').send({ ruleMode: 'json', rules: '[{"name":"a"' }).expect(200);
    assert.match(json.body.problem, /^rules must be JSON/);
  });

  it('the example flow raises, holds, acknowledges and clears the power alarm, and catches a bad ack', async () => {
    const file = path.join(__dirname, '..', '..', '..', 'examples', 'Alarm - power threshold and stale meter.json');
    const example = JSON.parse(fs.readFileSync(file, 'utf8')) as any[];
    const nodes = [{ id: 'f1', type: 'tab' }, ...example.filter((n) => n.type !== 'comment').map((n) => ({ ...n, z: 'f1', ...(n.type === 'debug' ? { type: 'helper' } : {}) }))];
    await helper.load([alarmNode, require('@node-red/nodes/core/common/20-inject.js')], nodes);
    const seen: Record<string, any[]> = { 'ex-alarm-transitions': [], 'ex-alarm-open': [], 'ex-alarm-errors': [] };
    for (const [debug, list] of Object.entries(seen)) helper.getNode(debug).on('input', (m: any) => list.push(m));
    const click = async (inject: string) => { helper.getNode(inject).receive({}); await sleep(50); };
    await click('ex-alarm-high');
    await click('ex-alarm-band');
    await click('ex-alarm-ack');
    await click('ex-alarm-low');
    assert.deepEqual(seen['ex-alarm-transitions'].map((m) => `${m.topic} ${m.payload.transition} ${m.payload.rule} ${m.payload.value}`), [
      'alarm/raised raised Power above 50 kW 62.3', 'alarm/acknowledged acknowledged Power above 50 kW 62.3', 'alarm/cleared cleared Power above 50 kW 44',
    ]);
    assert.deepEqual(seen['ex-alarm-open'].at(-1).payload, []);
    await click('ex-alarm-ack');
    assert.match(seen['ex-alarm-errors'][0].error.message, /payload.alarm 1 is cleared; only a raised alarm can be acknowledged/);
  });
});
