#!/usr/bin/env node
// `npm start` (after the build): starts the demo's simulated meters, then Node-RED with settings.js
// and flows/ems.json. EMS_DEMO=0 skips the simulators (real meters). Ctrl-C stops both.
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const demo = process.env.EMS_DEMO !== '0';

/** The demo plant: three meters of different makes behind one Modbus TCP gateway. */
const DEMO_UNITS = [
  { unit: 1, profile: 'eastron-sdm630' },
  { unit: 2, profile: 'abb-a44' },
  { unit: 3, profile: 'carlo-gavazzi-em24' },
];

async function startSimulators() {
  const { ModbusMeterSimulator } = require(path.join(root, 'dist/lib/sim/modbus-meter'));
  const port = Number(process.env.EMS_MODBUS_PORT || 5020);
  process.env.EMS_MODBUS_HOST = process.env.EMS_MODBUS_HOST || '127.0.0.1';
  const sim = new ModbusMeterSimulator({ units: DEMO_UNITS });
  process.env.EMS_MODBUS_PORT = String(await sim.listen(port, process.env.EMS_MODBUS_HOST));
  console.log(`[ems] demo Modbus meters on ${process.env.EMS_MODBUS_HOST}:${process.env.EMS_MODBUS_PORT}: ` +
    DEMO_UNITS.map((u) => `unit ${u.unit} ${u.profile}`).join(', '));
  return [sim];
}

async function main() {
  const sims = demo ? await startSimulators() : [];
  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--settings', path.join(root, 'settings.js')], {
    cwd: root, stdio: 'inherit', env: process.env,
  });
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    if (red.exitCode === null) red.kill(signal);
    await Promise.all(sims.map((s) => s.close()));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  red.on('exit', async (code) => {
    await stop('SIGTERM');
    process.exit(code ?? 0);
  });
}

main().catch((err) => {
  console.error(`[ems] cannot start: ${err.message}`);
  process.exit(1);
});
