/**
 * The EMS evaluates its alarm rules on what the nodes do: readings stored by ems-store-write (through
 * ems-store's written listeners to ems-system's services.alarms) and poll results of ems-poll-schedule.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { useEmsNodeServer } from '../fixtures/ems-node-server';
import pollScheduleNode from '../../nodes/poll-schedule/poll-schedule';
import storeNode from '../../nodes/store/store';
import storeWriteNode from '../../nodes/store-write/store-write';
import systemNode, { type SystemConfigNode } from '../../nodes/system/system';
import type { EmsServices } from '../../lib/ems/services';
import { Quality } from '../../lib/model/quality';

helper.init(require.resolve('node-red'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('alarms fed by the nodes', () => {
  let dir: string;
  useEmsNodeServer(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function start(extra: any[] = []): Promise<EmsServices> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-alarm-feed-'));
    await helper.load([storeNode, systemNode, storeWriteNode, pollScheduleNode], [
      { id: 'tab', type: 'tab' },
      { id: 's1', type: 'ems-store', backend: 'sqlite', path: path.join(dir, 'r.sqlite'), timeZone: 'UTC' },
      { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: 'UTC' },
      { id: 'w1', z: 'tab', type: 'ems-store-write', store: 's1', batchSize: '1000', flushInterval: '0', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      ...extra,
    ]);
    return (helper.getNode('sys') as unknown as SystemConfigNode).ready();
  }

  it('a reading stored by ems-store-write raises a threshold alarm, and a later one clears it', async () => {
    const services = await start();
    const folder = services.registry.createFolder({ name: 'Plant' });
    services.registry.createMeter({ name: 'Main', folder_id: folder._id, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, 'main');
    services.alarms.createRule({ name: 'Peak', subject: { meter: 'main' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' } }, 'root');
    const stored: any[] = [];
    helper.getNode('out').on('input', (m: any) => stored.push(m));
    helper.getNode('w1').receive({ payload: [{ meter: 'main', time: Date.now(), obis: '1-0:1.7.0', value: 72_000, unit: 'W' }] });
    await eventually(() => services.alarms.list({ state: 'raised' }).length === 1);
    assert.equal(stored.length, 1);
    const [a] = services.alarms.list({});
    assert.deepEqual([a.value, a.limit, a.unit], [72, 50, 'kW']);
    helper.getNode('w1').receive({ payload: { meter: 'main', time: Date.now() + 1000, obis: '1-0:1.7.0', value: 20, unit: 'kW' } });
    await eventually(() => services.alarms.get(a.id).state === 'cleared');
  });

  it('backfilled and historic readings are history: they raise no threshold or register alarm', async () => {
    const services = await start();
    const folder = services.registry.createFolder({ name: 'Plant' });
    services.registry.createMeter({ name: 'Main', folder_id: folder._id, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, 'main');
    services.alarms.createRule({ name: 'Peak', subject: { meter: 'main' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' } }, 'root');
    services.alarms.createRule({ name: 'Register', subject: { meter: 'main' }, condition: { type: 'register_sanity' } }, 'root');
    const stored: any[] = [];
    helper.getNode('out').on('input', (m: any) => stored.push(m));
    const now = Date.now();
    helper.getNode('w1').receive({ payload: [{ meter: 'main', time: now, obis: '1-0:1.8.0', value: 1000, unit: 'kWh' }] });
    await eventually(() => stored.length === 1);
    // An outage's readings, read from the meter's memory after it: a power peak an hour ago and lower register values.
    helper.getNode('w1').receive({ payload: [
      { meter: 'main', time: now - 3_600_000, obis: '1-0:1.7.0', value: 90, unit: 'kW', quality: Quality.BACKFILLED },
      { meter: 'main', time: now - 3_600_000, obis: '1-0:1.8.0', value: 950, unit: 'kWh', quality: Quality.BACKFILLED },
      { meter: 'main', time: now - 86_400_000, obis: '1-0:1.8.0', value: 800, unit: 'kWh', quality: Quality.HISTORIC },
    ] });
    await eventually(() => stored.length === 2);
    helper.getNode('w1').receive({ payload: [{ meter: 'main', time: now + 1000, obis: '1-0:1.7.0', value: 20, unit: 'kW' }] });
    await eventually(() => stored.length === 3);
    await sleep(200);
    assert.deepEqual(services.alarms.list({}), []);
    // A present reading still counts.
    helper.getNode('w1').receive({ payload: [{ meter: 'main', time: now + 2000, obis: '1-0:1.7.0', value: 60, unit: 'kW' }] });
    await eventually(() => services.alarms.list({ state: 'raised' }).length === 1);
  });

  it('failed polls of ems-poll-schedule raise a poll_failures alarm; a good poll clears it', async () => {
    const services = await start([
      { id: 'ps', z: 'tab', type: 'ems-poll-schedule', system: 'sys', protocols: '', wires: [['polls']] },
      { id: 'polls', z: 'tab', type: 'helper' },
    ]);
    const polls: any[] = [];
    helper.getNode('polls').on('input', (m: any) => polls.push(m));
    const folder = services.registry.createFolder({ name: 'Plant' });
    services.registry.createMeter({ name: 'Lighting', folder_id: folder._id, protocol: 'modbus-tcp', profile: 'eastron-sdm630', connection_address: '3', port: 5020, interval_time: 1 }, undefined, 'lighting');
    services.alarms.createRule({ name: 'Dead meter', subject: { meter: 'lighting' }, condition: { type: 'poll_failures', count: 2 } }, 'root');
    const ps = helper.getNode('ps');
    for (let i = 0; i < 2; i++) {
      await eventually(() => polls.length > i, 3000);
      ps.receive({ ...polls[i], error: { message: 'Modbus timeout after 1000 ms' } });
    }
    await eventually(() => services.alarms.list({ state: 'raised' }).length === 1);
    assert.equal(services.alarms.list({})[0].value, 2);
    await eventually(() => polls.length > 2, 3000);
    ps.receive(polls[2]);
    await eventually(() => services.alarms.list({ state: 'cleared' }).length === 1);
  });
});
