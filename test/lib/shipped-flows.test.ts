import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROTOCOLS, PUSHED_PROTOCOLS } from '../../lib/ems/meter-definition';
import { COMPLETE_EXAMPLE, DASHBOARD_EXAMPLE, shippedExamples, type FlowNode } from '../../lib/ems/shipped-flows';
import { isUnsetEnvReference, withoutUnsetEnv } from '../../nodes/unset-env';
import { parseClientConfig } from '../../nodes/modbus-client/modbus-client';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (file: string): FlowNode[] => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
const flows = read('flows/ems.json');

describe('the shipped EMS flows and their examples', () => {
  it('ships flows/ems.json as the examples "EMS - complete" and the dashboard tab (regenerate: node scripts/ems-examples.js)', () => {
    const { complete, dashboard } = shippedExamples(flows);
    assert.deepEqual(read(`examples/${COMPLETE_EXAMPLE}.json`), complete, `examples/${COMPLETE_EXAMPLE}.json differs from flows/ems.json`);
    assert.deepEqual(read(`examples/${DASHBOARD_EXAMPLE}.json`), dashboard, `examples/${DASHBOARD_EXAMPLE}.json differs from flows/ems.json`);
    assert.equal(complete.length + dashboard.length, flows.length);
  });

  it('"EMS - complete" needs only core and ems- nodes; the dashboard tab only its own nodes, Dashboard 2.0 and the EMS config nodes', () => {
    const { complete, dashboard } = shippedExamples(flows);
    const foreign = complete.filter((n) => /^ui[-_]/.test(n.type) || n.type.startsWith('influxdb'));
    assert.deepEqual(foreign.map((n) => `${n.id} (${n.type})`), []);
    const ids = new Set(complete.map((n) => n.id));
    const own = new Set(dashboard.map((n) => n.id));
    for (const n of dashboard) {
      for (const [key, value] of Object.entries(n)) {
        if (key === 'id' || typeof value !== 'string') continue;
        if (flows.some((m) => m.id === value) && !own.has(value)) assert.ok(ids.has(value) && !complete.find((m) => m.id === value)!.z, `${n.id}.${key} -> ${value} is a config node of EMS - complete`);
      }
    }
  });

  it('routes every protocol a meter can be defined with, and no branch is "not supported"', () => {
    const sw = flows.find((n) => n.id === 'poll-protocol') as FlowNode & { rules: { t: string; v: string }[]; wires: string[][] };
    const routed = sw.rules.map((r) => r.v);
    assert.deepEqual(routed.slice().sort(), PROTOCOLS.filter((p) => !PUSHED_PROTOCOLS.includes(p)).sort());
    assert.ok(sw.rules.every((r) => r.t === 'eq'), 'no "otherwise" branch');
    assert.equal(sw.wires.length, routed.length);
    assert.deepEqual(flows.filter((n) => /not supported/i.test(String(n.name ?? ''))).map((n) => n.id), []);
  });

  it('every ${VAR} setting left unreplaced falls back to the node default (stock Node-RED without the variables)', () => {
    const refs = flows.flatMap((n) => Object.entries(n).filter(([, v]) => isUnsetEnvReference(v)).map(([k, v]) => `${n.type}.${k}=${v}`));
    assert.ok(refs.includes('ems-system.timeZone=${EMS_TIME_ZONE}') && refs.includes('ems-modbus-client.port=${EMS_MODBUS_PORT}'), refs.join(', '));
    assert.equal(isUnsetEnvReference(' ${EMS_X} '), true);
    assert.equal(isUnsetEnvReference('a ${EMS_X}'), false);
    const client = flows.find((n) => n.type === 'ems-modbus-client') as any;
    assert.throws(() => parseClientConfig(client), /port must be an integer 1\.\.65535, got "\$\{EMS_MODBUS_PORT\}"/);
    assert.deepEqual(parseClientConfig(withoutUnsetEnv(client)).endpoint, { transport: 'tcp', host: '127.0.0.1', port: 502 });
  });
});
