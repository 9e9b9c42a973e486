#!/usr/bin/env node
// Regenerates the "EMS API" tab of flows/ems.json from the operation table (dist/lib/ems/api, so
// build first): one group per API section, one http in → ems api → http response row per
// operation. Other tabs and config nodes are kept as they are. Run after adding an operation:
//   npm run build && node scripts/api-flow.js
'use strict';
require('./help')(__filename);
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const flowFile = path.join(root, 'flows', 'ems.json');
const { OPERATIONS } = require(path.join(root, 'dist/lib/ems/api'));

const TAB = 'ems-api-tab';
const SYSTEM = 'ems-system-main';
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function apiTab() {
  const nodes = [{
    id: TAB, type: 'tab', label: 'EMS API', disabled: false,
    info: 'The EMS HTTP API: one group per section, each operation an http in → ems api → http response row.\n\n'
      + 'Every answer is `{ data, error, status }`. Log in at `POST /api/auth/login`; the documentation is at `/api/docs`.\n\n'
      + 'Generated from the operation table by `scripts/api-flow.js`.',
  }];
  const tags = [...new Set(OPERATIONS.map((o) => o.tag))];
  let y = 60;
  for (const tag of tags) {
    const ops = OPERATIONS.filter((o) => o.tag === tag);
    const group = `api-grp-${slug(tag)}`;
    const out = `api-out-${slug(tag)}`;
    const ids = [];
    const top = y;
    ops.forEach((op, i) => {
      const id = `api-${slug(op.name)}`;
      const rowY = top + 40 + i * 50;
      nodes.push({
        id: `${id}-in`, type: 'http in', z: TAB, g: group, name: `${op.method} ${op.path}`, url: op.path,
        method: op.method.toLowerCase(), upload: Boolean(op.upload), swaggerDoc: '', x: 250, y: rowY, wires: [[id]],
      });
      nodes.push({ id, type: 'ems-api', z: TAB, g: group, name: op.summary, system: SYSTEM, operation: op.name, identity: 'request', user: '', x: 620, y: rowY, wires: [[out]] });
      ids.push(`${id}-in`, id);
    });
    nodes.push({ id: out, type: 'http response', z: TAB, g: group, name: 'answer', statusCode: '', headers: {}, x: 950, y: top + 40, wires: [] });
    ids.push(out);
    nodes.push({
      id: group, type: 'group', z: TAB, name: tag, style: { label: true }, nodes: ids,
      x: 54, y: top - 20, w: 1012, h: ops.length * 50 + 42,
    });
    y = top + ops.length * 50 + 60;
  }
  return nodes;
}

const flows = JSON.parse(fs.readFileSync(flowFile, 'utf8'));
const kept = flows.filter((n) => n.id !== TAB && n.z !== TAB && n.id !== SYSTEM);
const system = {
  id: SYSTEM, type: 'ems-system', name: 'EMS', store: 'ems-store-main', path: '${EMS_DB_PATH}', billsPath: '', timeZone: '${EMS_TIME_ZONE}',
};
const configEnd = kept.findIndex((n) => n.type === 'tab' || n.z);
const at = configEnd < 0 ? kept.length : configEnd;
const firstTab = kept.findIndex((n) => n.type === 'tab');
const result = [...kept.slice(0, at), system, ...kept.slice(at)];
// The API tab goes right after the first tab's nodes.
let insertAt = result.length;
if (firstTab >= 0) {
  const firstTabId = result.find((n) => n.type === 'tab').id;
  insertAt = result.reduce((last, n, i) => (n.id === firstTabId || n.z === firstTabId ? i + 1 : last), 0);
}
result.splice(insertAt, 0, ...apiTab());
fs.writeFileSync(flowFile, `${JSON.stringify(result, null, 4)}\n`);
console.log(`flows/ems.json: ${OPERATIONS.length} operations in ${new Set(OPERATIONS.map((o) => o.tag)).size} groups on the "EMS API" tab`);
