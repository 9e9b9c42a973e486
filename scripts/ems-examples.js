#!/usr/bin/env node
// Writes the shipped EMS as the package's examples (Import > Examples > node-red-contrib-ems in the editor):
// "EMS - complete.json" (everything but the dashboard) and the dashboard tab for Node-REDs with Dashboard 2.0,
// both cut from flows/ems.json (dist/lib/ems/shipped-flows, so build first). Run after changing flows/ems.json:
//   npm run build && node scripts/ems-examples.js
'use strict';
require('./help')(__filename);
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { shippedExamples, COMPLETE_EXAMPLE, DASHBOARD_EXAMPLE } = require(path.join(root, 'dist/lib/ems/shipped-flows'));
const flows = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'ems.json'), 'utf8'));
const { complete, dashboard } = shippedExamples(flows);
for (const [name, nodes] of [[COMPLETE_EXAMPLE, complete], [DASHBOARD_EXAMPLE, dashboard]]) {
  const file = path.join(root, 'examples', `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(nodes, null, 4) + '\n');
  console.log(`${path.relative(root, file)}: ${nodes.length} nodes`);
}
