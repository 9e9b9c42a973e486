import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import iecNode from '../../nodes/iec62056-meter/iec62056-meter';
import storeNode from '../../nodes/store/store';
import systemNode from '../../nodes/system/system';
import { Iec62056Simulator, findSimMeter } from '../../lib/sim/iec62056';
import type { Reading } from '../../lib/model';
import { Quality } from '../../lib/model';

helper.init(require.resolve('node-red'));

describe('ems-iec62056-meter', () => {
  let sim: Iec62056Simulator;
  let port: number;
  let dir: string;

  before(async () => {
    sim = new Iec62056Simulator({
      meters: [
        { address: '12345678', profile: findSimMeter('iskra-mt174')!, password: '00000000' },
        { address: '87654321', profile: findSimMeter('landis-gyr-zmd310')!, password: 'LGZPASS', clockOffsetMs: -300_000 },
      ],
    });
    port = await sim.listen(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-iec-node-'));
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ({ id: 'n1', z: 't', type: 'ems-iec62056-meter', host: '127.0.0.1', port: String(port), mode: 'auto', address: '12345678', maxBaud: '9600', timeout: '1500', timeDifference: '0', timeZone: 'UTC', system: '', wires: [['out']] });

  it('reads the meter an EMS poll message describes and keeps msg.poll', async () => {
    const flow: any[] = [{ id: 't', type: 'tab' }, { ...base(), address: '' }, { id: 'out', z: 't', type: 'helper' }];
    await helper.load(iecNode, flow);
    const got = new Promise<any>((r) => helper.getNode('out').on('input', r));
    const poll = { id: 'p1', meter: 'zmd-1', due: 1, started: 2 };
    helper.getNode('n1').receive({ topic: 'zmd-1', meter: { _id: 'zmd-1', name: 'ZMD', protocol: 'iec62056-21', ip_address: '127.0.0.1', port, connection_address: '87654321', password: '', waiting_time: 1500, time_difference: 0 }, poll } as any);
    const msg = await got;
    assert.deepEqual(msg.poll, poll);
    assert.equal(msg.iec62056.identification.manufacturer, 'LGZ');
    const r = msg.payload as Reading[];
    const energy = r.find((x) => x.obis === '1-1:1.8.0' && !x.quality)!;
    assert.equal(energy.meter, 'zmd-1');
    assert.ok(energy.value >= 51206 && energy.value < 51300, `1.8.0 = ${energy.value}`);
    assert.equal(r.find((x) => x.obis === '1-1:32.7.0')!.value, 239.9);
    assert.ok(r.some((x) => x.quality === Quality.HISTORIC && x.obis === '1-1:1.8.0' && x.value === 49555));
  });

  it('corrects a drifting clock with the P1 password and logs a clock event', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' },
      { id: 's1', type: 'ems-store', backend: 'sqlite', path: path.join(dir, 'store.db'), timeZone: 'UTC' },
      { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: '' },
      { ...base(), address: '87654321', timeDifference: '60', system: 'sys' },
      { id: 'out', z: 't', type: 'helper' },
    ];
    await helper.load([iecNode, storeNode, systemNode], flow, { n1: { password: 'LGZPASS' } });
    const got = new Promise<any>((r) => helper.getNode('out').on('input', r));
    helper.getNode('n1').receive({ topic: 'zmd-2' });
    const msg = await got;
    assert.equal(msg.iec62056.clock.corrected, true);
    assert.ok(Math.abs(msg.iec62056.clock.driftSeconds + 300) <= 2, `drift ${msg.iec62056.clock.driftSeconds}`);
    assert.ok(Math.abs(sim.meter('87654321').clockOffsetMs) < 2000);
    const energy = (msg.payload as Reading[]).find((x) => x.obis === '1-1:1.8.0' && x.quality !== Quality.HISTORIC)!;
    assert.equal(energy.quality, Quality.CLOCK_ADJUSTED);
    assert.ok(Math.abs(energy.time - Date.now()) < 5000);
    const services = await (helper.getNode('sys') as any).ready();
    const events = services.events.query({ filter: 'clock' });
    assert.equal(events.length, 1);
    assert.equal(events[0].meter_id, 'zmd-2');
    assert.match(events[0].event, /meter clock corrected: it was -30\d s behind/);
  });

  it('sends a dead address and a bad message to Catch', async () => {
    const flow: any[] = [
      { id: 't', type: 'tab' }, { ...base(), address: '99999999', timeout: '300' }, { id: 'out', z: 't', type: 'helper' },
      { id: 'c1', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['h1']] }, { id: 'h1', z: 't', type: 'helper' },
    ];
    await helper.load(iecNode, flow);
    const caught: any[] = [];
    helper.getNode('h1').on('input', (m: any) => caught.push(m));
    helper.getNode('n1').receive({ topic: 'x' });
    await new Promise((r) => setTimeout(r, 1200));
    helper.getNode('n1').receive({ meter: { _id: 'y', ip_address: '127.0.0.1', port, connection_address: 'a/b' } } as any);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(caught.length, 2);
    assert.match(caught[0].error.message, /no identification from the meter within 300 ms/);
    assert.match(caught[1].error.message, /connection_address\) "a\/b" must be up to 32 letters or digits/);
  });
});
