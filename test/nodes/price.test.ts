import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import tariffNode from '../../nodes/tariff/tariff';
import priceNode from '../../nodes/price/price';
import { TOU } from '../../nodes/tariff/examples';
import type { PriceResult } from '../../lib/tariff/types';

helper.init(require.resolve('node-red'));

const HOUR = 3_600_000;
/** Wednesday 14 January 2026, 00:00 in Berlin (UTC+1): a winter weekday. */
const DAY = Date.parse('2026-01-14T00:00:00+01:00');

/**
 * 24 hourly intervals: 1 kWh each, 2 kWh from 17:00 to 20:00. By the winter weekday schedule:
 * valley 00-06, 22-24: 8 kWh x 0.12 = 0.96; flat 06-08, 11-17, 20-22: 10 kWh x 0.24 = 2.40;
 * peak 08-11, 17-20: 3 + 6 = 9 kWh x 0.36 = 3.24. Energy 6.60 + standing charge 0.40 = 7.00,
 * VAT 19% = 1.33, total 8.33 EUR.
 */
const quantity = (h: number): number => (h >= 17 && h < 20 ? 2 : 1);
const intervals = Array.from({ length: 24 }, (_, h) => ({ start: DAY + h * HOUR, end: DAY + (h + 1) * HOUR, quantity: quantity(h), unit: 'kWh' }));
const records = intervals.map((i) => ({ meter: 'flat-12', obis: '1-0:1.8.0', from: i.start, to: i.end, value: i.quantity, unit: 'kWh', quality: 0 }));

function flow(extra: Record<string, unknown> = {}, tariff: unknown = TOU): any[] {
  return [
    { id: 'f1', type: 'tab' },
    { id: 't1', type: 'ems-tariff', name: '', tariff: typeof tariff === 'string' ? tariff : JSON.stringify(tariff) },
    { id: 'p1', z: 'f1', type: 'ems-price', tariff: 't1', output: 'result', wires: [['out']], ...extra },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** Node-RED puts err.toString() in msg.error.message: "Error: ...". */
const why = (m: any): string => String(m?.error?.message).replace(/^Error: /, '');

function next(id: string): Promise<any> {
  return new Promise((r) => helper.getNode(id).once('input', r));
}

/** Sends msg to the price node and resolves with whichever comes first: an output or a caught error. */
async function price(msg: Record<string, unknown>): Promise<{ out?: any; caught?: any }> {
  const out = next('out').then((m) => ({ out: m }));
  const caught = next('caught').then((m) => ({ caught: m }));
  helper.getNode('p1').receive(msg as any);
  return Promise.race([out, caught]);
}

describe('ems-price', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  it('prices a time-of-use day to the hand-computed total', async () => {
    await helper.load([tariffNode, priceNode], flow());
    const { out, caught } = await price({ payload: intervals, topic: 'house' });
    assert.equal(caught, undefined, caught?.error?.message);
    const r = out.payload as PriceResult;
    assert.equal(r.currency, 'EUR');
    assert.equal(r.total, '8.33');
    assert.equal(r.subtotal, '7.00');
    const energy = (p: string) => r.lines.filter((l) => l.kind === 'energy' && l.period === p);
    assert.deepEqual(energy('valley').map((l) => [l.quantity, l.amount]).map(([q, a]) => [Number(q), a]), [[8, '0.96']]);
    assert.deepEqual(energy('flat').map((l) => [Number(l.quantity), l.amount]), [[10, '2.40']]);
    assert.deepEqual(energy('peak').map((l) => [Number(l.quantity), l.amount]), [[9, '3.24']]);
    assert.equal(r.lines.find((l) => l.kind === 'fixed')?.amount, '0.40');
    assert.equal(r.taxes[0]?.amount, '1.33');
    assert.equal(out.topic, 'house', 'without meter ids the topic is passed through');
  });

  it('accepts ems-consumption records and sets the topic to their meter', async () => {
    await helper.load([tariffNode, priceNode], flow({ output: 'total' }));
    const { out, caught } = await price({ payload: records });
    assert.equal(caught, undefined, caught?.error?.message);
    assert.equal(out.payload, 8.33);
    assert.equal(out.price.total, '8.33');
    assert.equal(out.topic, 'flat-12');
  });

  it('takes the billing range from msg.from and msg.to', async () => {
    await helper.load([tariffNode, priceNode], flow());
    const { out, caught } = await price({ payload: records, from: '2026-01-14T00:00:00+01:00', to: DAY + 48 * HOUR });
    assert.equal(caught, undefined, caught?.error?.message);
    assert.equal(out.payload.from, DAY);
    assert.equal(out.payload.to, DAY + 48 * HOUR);
    assert.equal(out.payload.lines.find((l: any) => l.kind === 'fixed')?.amount, '0.80', 'two days of standing charge');
  });

  it('sends bad input to a Catch node naming the field and the value', async () => {
    await helper.load([tariffNode, priceNode], flow());
    const bad = intervals.map((i) => ({ ...i }));
    bad[3].end = bad[3].start - HOUR;
    const { out, caught } = await price({ payload: bad });
    assert.equal(out, undefined);
    assert.match(why(caught), /^payload\[3\]\.end \(\d+ = 2026-01-14T01:00:00\.000Z\) is before start/);
    assert.deepEqual(caught.payload, bad, 'Catch gets the input message');

    const { caught: c2 } = await price({ payload: [{ ...records[0], value: 'lots' }] });
    assert.equal(why(c2), 'payload[0].value ("lots") must be a number');
    const { caught: c3 } = await price({ payload: 42 });
    assert.match(why(c3), /^payload \(42\) must be a consumption interval/);
    const { caught: c4 } = await price({ payload: intervals, from: 'yesterday' });
    assert.match(why(c4), /^msg\.from \("yesterday"\) must be a time/);
  });

  it('prices CSV text from a European spreadsheet (semicolons, decimal comma, local times) with Decimal comma on', async () => {
    // the same day as above, 1,0 or 2,0 kWh an hour, local times in the tariff's zone (Berlin)
    const hh = (h: number) => `2026-01-${h < 24 ? '14' : '15'} ${String(h % 24).padStart(2, '0')}:00`;
    const csv = '\ufeffstart;end;quantity;unit;meter\r\n' +
      Array.from({ length: 24 }, (_, h) => `${hh(h)};${hh(h + 1)};${quantity(h)},0;kWh;"Flat 12; east"\r\n`).join('');
    await helper.load([tariffNode, priceNode], flow({ decimalComma: true }));
    const { out, caught } = await price({ payload: csv });
    assert.equal(caught, undefined, caught?.error?.message);
    assert.equal(out.payload.total, '8.33');
    assert.equal(out.topic, 'Flat 12; east');

    await helper.unload();
    await helper.load([tariffNode, priceNode], flow());
    const refused = await price({ payload: Buffer.from(csv) });
    assert.equal(refused.out, undefined);
    assert.equal(why(refused.caught), 'payload (CSV): line 2, column 3 (quantity): expected a number such as 1234.56 (for a decimal comma as in 0,5 turn decimalComma on), got "1,0"');
  });

  it('the example flow prices its day of consumption and catches its bad interval', async () => {
    const file = path.join(__dirname, '..', '..', '..', 'examples', 'Price - time-of-use tariff.json');
    const example = JSON.parse(fs.readFileSync(file, 'utf8')) as any[];
    const nodes = [{ id: 'f1', type: 'tab' }, ...example.filter((n) => n.type !== 'comment').map((n) => ({ ...n, z: n.type === 'ems-tariff' ? undefined : 'f1', ...(n.type === 'debug' ? { type: 'helper' } : {}) }))];
    const inject = require('@node-red/nodes/core/common/20-inject.js');
    await helper.load([tariffNode, priceNode, inject], nodes);
    const priced = next('ex-price-debug');
    helper.getNode('ex-price-inject').receive({});
    const out = await priced;
    assert.equal(out.payload.total, '8.33');
    assert.equal(out.topic, 'flat-12');
    const refused = next('ex-price-errors');
    helper.getNode('ex-price-bad').receive({});
    assert.match(why(await refused), /^payload\[0\]\.end .* is before start/);
  });

  it('refuses to price with an invalid tariff and says why', async () => {
    const t = JSON.parse(JSON.stringify(TOU));
    t.currency = 'euro';
    await helper.load([tariffNode, priceNode], flow({}, t));
    const { out, caught } = await price({ payload: intervals });
    assert.equal(out, undefined);
    assert.match(why(caught), /invalid tariff: currency/);
  });
});
