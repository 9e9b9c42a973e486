import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import wmbus from '../../nodes/wmbus/wmbus';
import { encodeWmbus } from '../../lib/protocols/wmbus';

helper.init(require.resolve('node-red'));

const KEY = '000102030405060708090A0B0C0D0E0F';
/** Annex N N.2.1: OMS gas meter ELS 12345678, mode 5, 28504.27 m3. */
const ANNEX = '2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3';
const ANNEX_KEY = '0102030405060708090A0B0C0D0E0F11';
const water = (id: string, litres: number, mode: 0 | 5 | 7 = 7) => {
  const rec = Buffer.from([0x04, 0x13, 0, 0, 0, 0]);
  rec.writeUInt32LE(litres, 2);
  return encodeWmbus({ manufacturer: 'ELS', id, version: 1, deviceType: 7, accessNumber: 5, records: rec, mode, key: Buffer.from(KEY, 'hex'), messageCounter: 12, format: 'A' });
};

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))]);
}
const next = (id: string, what: string) => within(new Promise<any>((r) => helper.getNode(id).once('input', r)), 3000, what);
const quiet = (id: string, ms: number) => new Promise<boolean>((resolve) => {
  const t = setTimeout(() => resolve(true), ms);
  helper.getNode(id).once('input', () => { clearTimeout(t); resolve(false); });
});

function flow(props: Record<string, unknown>) {
  const f: any[] = [
    { id: 'tab', type: 'tab' },
    { id: 'n1', z: 'tab', type: 'ems-wmbus', meters: '', interval: '0', wires: [['out']], ...props },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  return f;
}

describe('ems-wmbus', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  it('decrypts the OMS Annex N gas meter with its key from the credentials and names the meter', async () => {
    await helper.load(wmbus, flow({ meters: 'ELS12345678 gas-main' }), { n1: { keys: `12345678=${ANNEX_KEY}` } });
    const got = next('out', 'the decoded telegram');
    helper.getNode('n1').receive({ payload: ANNEX });
    const msg = await got;
    assert.equal(msg.topic, 'gas-main');
    assert.deepEqual(msg.payload.map((r: any) => [r.meter, r.obis, r.value, r.unit]), [['gas-main', '7-0:3.0.0', 28504.27, 'm3']]);
    assert.equal(msg.wmbus.security.mode, 5);
    assert.equal(msg.wmbus.meter.id, '12345678');
  });

  it('takes rtl-wmbus lines and Buffers, and a mode 7 telegram with msg.meter (EMS definition)', async () => {
    await helper.load(wmbus, flow({}));
    const t = water('11112222', 4321);
    let got = next('out', 'the rtl-wmbus telegram');
    helper.getNode('n1').receive({ payload: `T1;1;1;2026-12-07 10:00:00.000;97;148;11112222;0x${t.toString('hex')}`, meter: { _id: 'flat-3', connection_address: '11112222', password: KEY } });
    let msg = await got;
    assert.equal(msg.topic, 'flat-3');
    assert.equal(msg.payload[0].value, 4.321);
    assert.equal(msg.wmbus.security.macChecked, true);
    got = next('out', 'the plain Buffer telegram');
    helper.getNode('n1').receive({ payload: water('33334444', 1000, 0) });
    msg = await got;
    assert.equal(msg.topic, 'ELS-33334444');
  });

  it('counts unknown meters in the status instead of reporting errors', async () => {
    await helper.load(wmbus, flow({ meters: '11112222 flat-3' }), { n1: { keys: `11112222=${KEY}` } });
    const n1 = helper.getNode('n1');
    const statuses: any[] = [];
    (n1 as any).on('call:status', (c: any) => statuses.push(c.args[0]));
    const caught = quiet('caught', 300);
    const out = quiet('out', 300);
    n1.receive({ payload: water('99998888', 1) });
    n1.receive({ payload: water('99997777', 1) });
    assert.equal(await caught, true, 'no error for unknown meters');
    assert.equal(await out, true, 'no message for unknown meters');
    assert.match(statuses.at(-1).text, /2 telegrams, 2 unknown \(last ELS 99997777\)/);
  });

  it('without a meter list, an encrypted neighbour without a key is counted as unknown, not an error', async () => {
    await helper.load(wmbus, flow({}));
    const n1 = helper.getNode('n1');
    const statuses: any[] = [];
    (n1 as any).on('call:status', (c: any) => statuses.push(c.args[0]));
    const caught = quiet('caught', 300);
    n1.receive({ payload: water('55556666', 1, 5) });
    assert.equal(await caught, true);
    assert.match(statuses.at(-1).text, /1 telegrams, 1 unknown \(last ELS 55556666\)/);
  });

  it('a wrong key reaches Catch naming the meter, and the key never appears in the error', async () => {
    await helper.load(wmbus, flow({ meters: '11112222 flat-3' }), { n1: { keys: '11112222=FFEEDDCCBBAA99887766554433221100' } });
    const caught = next('caught', 'the wrong-key error');
    helper.getNode('n1').receive({ payload: water('11112222', 5) });
    const msg = await caught;
    assert.match(msg.error.message, /wmbus: telegram from ELS 11112222: wrong key \(MAC/);
    assert.doesNotMatch(msg.error.message, /FFEEDDCC/i);
  });

  it('bad input reaches Catch naming what came', async () => {
    await helper.load(wmbus, flow({}));
    const caught = next('caught', 'the bad-input error');
    helper.getNode('n1').receive({ payload: 'not a telegram' });
    assert.match((await caught).error.message, /payload "not a telegram" is not a hex telegram/);
  });

  it('interval: a meter\'s repeated telegram within the interval is not sent again', async () => {
    await helper.load(wmbus, flow({ interval: '60' }));
    const first = next('out', 'the first telegram');
    helper.getNode('n1').receive({ payload: water('33334444', 1000, 0).toString('hex') });
    await first;
    const none = quiet('out', 300);
    helper.getNode('n1').receive({ payload: water('33334444', 1001, 0).toString('hex') });
    assert.equal(await none, true);
  });
});
