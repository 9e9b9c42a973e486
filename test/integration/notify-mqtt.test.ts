import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createMqttChannel } from '../../lib/ems/notify/channels/mqtt';
import { NotificationDispatcher, type FailureReport } from '../../lib/ems/notify/dispatcher';
import type { AlarmNotification, Channel } from '../../lib/ems/notify/types';
import { alarm } from '../fixtures/notify/fakes';
import { startMosquitto, type Broker } from '../fixtures/lorawan/mosquitto';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

function unavailable(): string | undefined {
  if (!fs.existsSync('/usr/sbin/mosquitto') && !findExecutable('mosquitto')) return 'mosquitto not found (apt-get install mosquitto)';
  if (!findExecutable('mosquitto_sub')) return 'mosquitto_sub not found (apt-get install mosquitto-clients)';
  return undefined;
}

/** The retained messages under a filter, read by mosquitto_sub (the real client, not ours): "topic payload" lines. */
function retained(port: number, filter: string): Promise<Map<string, AlarmNotification>> {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', filter, '--retained-only', '-v', '-W', '2'], { timeout: 10_000 }, (err, stdout, stderr) => {
      // -W ends with exit code 27 when the timeout passes; that is how it stops after the retained set.
      if (err && (err as { code?: number }).code !== 27) { reject(new Error(`mosquitto_sub: ${stderr || err.message}`)); return; }
      const m = new Map<string, AlarmNotification>();
      for (const line of stdout.split('\n').filter(Boolean)) {
        const i = line.indexOf(' ');
        m.set(line.slice(0, i), JSON.parse(line.slice(i + 1)));
      }
      resolve(m);
    });
  });
}

describe('alarm state through a real Mosquitto broker', missingPeer(unavailable()), () => {
  let broker: Broker;
  let channel: Channel;

  before(async () => {
    broker = await startMosquitto();
    channel = createMqttChannel({ url: `mqtt://127.0.0.1:${broker.port}`, prefix: 'site1/ems', timeoutMs: 5000, reconnectPeriodMs: 500 });
  });

  after(async () => {
    await channel?.close?.();
    await broker?.stop();
  });

  it('retains each alarm\'s state on its own topic; a cleared alarm replaces its retained state; events are not retained', async () => {
    // A live subscriber to the events topic (mosquitto_sub) sees every transition once.
    const events = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'site1/ems/events/alarms', '-F', '%r %p', '-q', '1', '-C', '3', '-W', '20']);
    let evOut = '';
    events.stdout.on('data', (d) => { evOut += d; });
    const evDone = new Promise<void>((r) => events.once('exit', () => r()));
    await new Promise((r) => setTimeout(r, 500)); // let the subscription be set up

    const failures: FailureReport[] = [];
    const d = new NotificationDispatcher([{ userId: 'scada', channels: ['mqtt'] }, { userId: 'ops', channels: ['mqtt'] }], {
      timeZone: 'UTC', channels: { mqtt: channel }, folderIds: () => [], onFailure: (r) => failures.push(r),
    });
    const since = Date.UTC(2026, 11, 7, 10, 0);
    d.notify(alarm({ alarmId: 'a-1', severity: 'critical', since, at: since }));
    d.notify(alarm({ alarmId: 'a-2', severity: 'warning', since, at: since + 1000, meterName: 'Chiller' }));
    await within(d.settled(), 15_000, 'the raised states to be published');
    let state = await retained(broker.port, 'site1/ems/alarms/+');
    assert.deepEqual([...state.keys()].sort(), ['site1/ems/alarms/a-1', 'site1/ems/alarms/a-2']);
    assert.equal(state.get('site1/ems/alarms/a-1')!.state, 'raised');
    assert.equal(state.get('site1/ems/alarms/a-2')!.meterName, 'Chiller');

    d.notify(alarm({ alarmId: 'a-1', severity: 'critical', state: 'cleared', since, at: since + 60_000, value: 12 }));
    await within(d.settled(), 15_000, 'the cleared state to be published');
    state = await retained(broker.port, 'site1/ems/alarms/+');
    assert.equal(state.size, 2);
    assert.deepEqual({ state: state.get('site1/ems/alarms/a-1')!.state, at: state.get('site1/ems/alarms/a-1')!.at, value: state.get('site1/ems/alarms/a-1')!.value }, { state: 'cleared', at: since + 60_000, value: 12 });
    assert.equal(state.get('site1/ems/alarms/a-2')!.state, 'raised');

    await within(evDone, 25_000, 'mosquitto_sub to receive 3 events');
    const lines = evOut.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.slice(0, 2)), ['0 ', '0 ', '0 '], 'events are not retained');
    assert.deepEqual(lines.map((l) => { const n = JSON.parse(l.slice(2)); return `${n.alarmId}:${n.state}`; }), ['a-1:raised', 'a-2:raised', 'a-1:cleared'], 'each once, though two subscribers chose mqtt');
    assert.equal((await retained(broker.port, 'site1/ems/events/#')).size, 0, 'nothing retained on the events topic');
    assert.deepEqual(failures, []);
    await d.close();
  });

  it('a broker that is down fails within the bound with an error naming it, and the dispatcher reports it after its attempts', async () => {
    const dead = createMqttChannel({ url: 'mqtt://127.0.0.1:1', timeoutMs: 300, reconnectPeriodMs: 100 });
    try {
      const failures: FailureReport[] = [];
      const d = new NotificationDispatcher([{ userId: 'scada', channels: ['mqtt'] }], {
        timeZone: 'UTC', channels: { mqtt: dead }, folderIds: () => [], onFailure: (r) => failures.push(r), maxAttempts: 2, baseDelayMs: 50,
      });
      d.notify(alarm({ alarmId: 'lost' }));
      await within(d.settled(), 10_000, 'the dispatcher to give up on the dead broker');
      assert.equal(failures.length, 1);
      assert.equal(failures[0].attempts, 2);
      assert.match(failures[0].error, /^mqtt: not connected to mqtt:\/\/127\.0\.0\.1:1\/? within 300 ms/);
      await d.close();
    } finally {
      await dead.close?.();
    }
  });
});
