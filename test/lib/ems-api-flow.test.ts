import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OPERATIONS } from '../../lib/ems/api';

const flows: any[] = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../flows/ems.json'), 'utf8'));
const byId = new Map(flows.map((n) => [n.id, n]));

describe('the shipped API flow', () => {
  it('serves every operation: http in (method, path) → ems-api (that operation) → http response, grouped by section', () => {
    const inputs = flows.filter((n) => n.type === 'http in' && n.z === 'ems-api-tab');
    assert.equal(inputs.length, OPERATIONS.length, 'one http in per operation (run scripts/api-flow.js after adding one)');
    for (const op of OPERATIONS) {
      const input = inputs.find((n) => n.url === op.path && n.method === op.method.toLowerCase());
      assert.ok(input, `${op.method} ${op.path} has an http in`);
      const api = byId.get(input.wires[0][0]);
      assert.equal(api?.type, 'ems-api');
      assert.equal(api.operation, op.name);
      assert.equal(api.system, 'ems-system-main');
      assert.equal(byId.get(api.wires[0][0])?.type, 'http response', `${op.name} answers`);
      const group = byId.get(input.g);
      assert.equal(group?.name, op.tag, `${op.name} sits in the "${op.tag}" group`);
    }
    const system = byId.get('ems-system-main');
    assert.equal(system.type, 'ems-system');
    assert.equal(byId.get(system.store)?.type, 'ems-store');
  });
});
