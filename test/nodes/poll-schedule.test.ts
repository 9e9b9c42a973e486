import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { useEmsNodeServer } from '../fixtures/ems-node-server';
import pollScheduleNode, { type SchedulePoller } from '../../nodes/poll-schedule/poll-schedule';
import storeNode from '../../nodes/store/store';
import systemNode, { type SystemConfigNode } from '../../nodes/system/system';
import type { EmsServices } from '../../lib/ems/services';
import { PROTOCOLS } from '../../lib/ems/meter-definition';

helper.init(require.resolve('node-red'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ems-poll-schedule', () => {
  let dir: string;
  useEmsNodeServer(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Loads store + system + schedule; every poll message lands in `polls` (and is not answered). */
  async function start(protocols = '') {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-poll-'));
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 's1', type: 'ems-store', backend: 'sqlite', path: path.join(dir, 'r.sqlite'), timeZone: 'UTC' },
      { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: 'UTC' },
      { id: 'ps', z: 'tab', type: 'ems-poll-schedule', system: 'sys', protocols, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load([storeNode, systemNode, pollScheduleNode], flow);
    const system = helper.getNode('sys') as unknown as SystemConfigNode;
    const services: EmsServices = await system.ready();
    await eventuallyTrue(() => system.poller !== undefined);
    const polls: any[] = [];
    helper.getNode('out').on('input', (msg: any) => polls.push(msg));
    const folder = services.registry.createFolder({ name: 'Plant' });
    const meter = (name: string, extra: object = {}) => services.registry.createMeter({
      name, folder_id: folder._id, protocol: 'modbus-tcp', profile: 'eastron-sdm630', connection_address: '3', port: 5020, interval_time: 1, ...extra,
    });
    return { system, services, polls, meter, node: helper.getNode('ps'), poller: () => system.poller as SchedulePoller };
  }

  async function eventuallyTrue(probe: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!probe()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await sleep(20);
    }
  }

  it('polls a meter created in the registry, with the Modbus hints, and ends the poll when the message comes back', async () => {
    const { polls, meter, node, poller } = await start();
    const m = meter('Main incomer', { password: 'secret' });
    await eventuallyTrue(() => polls.length >= 1, 2500);
    const msg = polls[0];
    assert.equal(msg.topic, m._id);
    assert.equal(msg.meter._id, 'main-incomer');
    assert.equal(msg.meter.folder_id, m.folder_id);
    assert.equal(msg.meter.password, 'secret', 'protocol nodes get the password');
    assert.equal(msg.unit, 3);
    assert.equal(msg.profile, 'eastron-sdm630');
    assert.deepEqual(msg.endpoint, { host: '127.0.0.1', port: 5020, transport: 'tcp' });
    assert.equal(msg.poll.meter, 'main-incomer');
    assert.ok(poller().status('main-incomer')!.running);
    node.receive({ ...msg, payload: [{ meter: 'main-incomer', obis: '1-0:1.8.0', value: 1, unit: 'kWh', time: Date.now() }] });
    await eventuallyTrue(() => poller().status('main-incomer')!.last !== null);
    const s = poller().status('main-incomer')!;
    assert.equal(s.running, false);
    assert.equal(s.last!.ok, true);
    assert.equal(s.failures, 0);
    // Polled again one interval later.
    await eventuallyTrue(() => polls.length >= 2, 2500);
    assert.equal(polls[1].topic, 'main-incomer');
    assert.notEqual(polls[1].poll.id, msg.poll.id);
  });

  it('follows an update and a delete without a redeploy', async () => {
    const { polls, meter, node, services } = await start();
    meter('HVAC');
    await eventuallyTrue(() => polls.length >= 1, 2500);
    node.receive(polls[0]);
    services.registry.updateMeter('hvac', { connection_address: '7' });
    await eventuallyTrue(() => polls.some((p) => p.unit === 7), 2500);
    const answered = polls.find((p) => p.unit === 7);
    node.receive(answered);
    services.registry.deleteMeter('hvac');
    const count = polls.length;
    await sleep(2200);
    assert.equal(polls.length, count, 'a deleted meter is not polled');
  });

  it('skips a meter whose poll has not ended, and answers busy to poll now', async () => {
    const { polls, meter, poller } = await start();
    meter('Slow');
    await eventuallyTrue(() => polls.length >= 1, 2500);
    await sleep(2200);
    assert.equal(polls.length, 1, 'two more due times passed, no second poll while the first is open');
    const s = poller().status('slow')!;
    assert.ok(s.running && s.skipped >= 2, `running ${s.running}, skipped ${s.skipped}`);
    const backlog = poller().backlog();
    assert.deepEqual({ running: backlog.running, waiting: backlog.waiting, meters: backlog.meters }, { running: 1, waiting: 0, meters: 1 });
    assert.equal(backlog.skipped, s.skipped);
    assert.deepEqual(poller().pollNow('slow'), { meter: 'slow', started: false, reason: 'busy' });
    assert.deepEqual(poller().pollNow('nope'), { meter: 'nope', started: false, reason: 'not scheduled' });
  });

  it('writes poll-failed with the cause for a failed poll and poll-recovered after the next success', async () => {
    const { polls, meter, node, services, poller } = await start();
    meter('Lighting');
    await eventuallyTrue(() => polls.length >= 1, 2500);
    node.receive({ ...polls[0], error: { message: 'Modbus timeout after 1000 ms', source: { id: 'x' } } });
    await eventuallyTrue(() => poller().status('lighting')!.failures === 1);
    const failed = services.events.query({ filter: 'poll-failed' });
    assert.equal(failed.length, 1);
    assert.equal(failed[0].meter_id, 'lighting');
    assert.equal(failed[0].meter_name, 'Lighting');
    assert.equal(failed[0].level, 'error');
    assert.match(failed[0].event, /Modbus timeout after 1000 ms/);
    assert.deepEqual(poller().status('lighting')!.last!.error, 'Modbus timeout after 1000 ms');

    await eventuallyTrue(() => polls.length >= 2, 2500);
    node.receive(polls[1]);
    await eventuallyTrue(() => poller().status('lighting')!.failures === 0);
    const recovered = services.events.query({ filter: 'poll-recovered' });
    assert.equal(recovered.length, 1);
    assert.match(recovered[0].event, /after 1 failed poll/);
    // A message that answers no open poll changes nothing.
    node.receive({ poll: { id: 'not-a-poll' }, error: 'x' });
    await sleep(50);
    assert.equal(services.events.query({ filter: 'poll-failed' }).length, 1);
  });

  it('its editor accepts every protocol a meter may have (the list in the editor equals the EMS\'s)', () => {
    const source = fs.readFileSync(path.resolve(__dirname, '../../../nodes/poll-schedule/editor.ts'), 'utf8');
    const list = /const PROTOCOLS = \[([^\]]*)\]/.exec(source);
    assert.ok(list, 'the editor declares const PROTOCOLS = [...]');
    assert.deepEqual(list[1].split(',').map((p) => p.trim().replace(/'/g, '')).filter(Boolean), [...PROTOCOLS]);
  });

  it('polls only the protocols it is given', async () => {
    const { polls, meter, poller } = await start('mbus');
    meter('Modbus one');
    meter('Heat', { protocol: 'mbus', profile: '', connection_address: '5' });
    await eventuallyTrue(() => polls.length >= 1, 2500);
    await sleep(300);
    assert.deepEqual([...new Set(polls.map((p) => p.topic))], ['heat']);
    assert.equal(polls[0].unit, undefined, 'no Modbus hints for M-Bus');
    assert.equal(poller().status('modbus-one'), null);
  });

  it('stops its timers and unregisters on close', async () => {
    const { polls, meter, system } = await start();
    meter('Gone');
    await eventuallyTrue(() => polls.length >= 1, 2500);
    const node = helper.getNode('ps') as any;
    let sent = 0;
    const send = node.send.bind(node);
    node.send = (m: unknown) => { sent++; send(m); };
    await new Promise<void>((r) => node.close(false).then(r));
    assert.equal(system.poller, undefined);
    await sleep(1500);
    assert.equal(sent, 0);
  });
});
