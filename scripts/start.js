#!/usr/bin/env node
// `npm start` (after the build): starts the demo's simulated meters, then Node-RED with settings.js
// and flows/ems.json. EMS_DEMO=0 skips the simulators (real meters). Ctrl-C stops both.
// With the simulators, an EMS database without meters gets the demo plant's three meters
// (EMS_DEMO_SEED=0 skips that), so the shipped poll schedule has something to poll.
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

/** The EMS database the ems-system node opens: EMS_DB_PATH (relative = under the user dir) or <userDir>/ems.db. */
function emsDbPath() {
  const userDir = path.resolve(process.env.EMS_USER_DIR || path.join(root, '.node-red'));
  const configured = (process.env.EMS_DB_PATH || '').trim();
  return configured ? path.resolve(userDir, configured) : path.join(userDir, 'ems.db');
}

/** Defines the demo plant's meters in an EMS database that has none (fixed ids, polled every 10 s). */
async function seedDemoMeters() {
  const fs = require('node:fs');
  const { openEmsServices } = require(path.join(root, 'dist/lib/ems'));
  const file = emsDbPath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const services = await openEmsServices({ file, env: process.env });
  try {
    if (services.registry.meterCount() > 0) return;
    const folder = services.registry.createFolder({ name: 'Demo plant', folder_type: 'site' });
    const meters = [['main-incomer', 'Main incomer'], ['hvac', 'HVAC'], ['lighting', 'Lighting']];
    meters.forEach(([id, name], i) => services.registry.createMeter({
      name, folder_id: folder._id, protocol: 'modbus-tcp', ip_address: process.env.EMS_MODBUS_HOST, port: Number(process.env.EMS_MODBUS_PORT),
      connection_address: String(DEMO_UNITS[i].unit), profile: DEMO_UNITS[i].profile, interval_time: 10,
    }, undefined, id));
    console.log(`[ems] demo meters ${meters.map(([id]) => id).join(', ')} defined in ${file}`);
  } finally {
    services.close();
  }
}

async function main() {
  const sims = demo ? await startSimulators() : [];
  if (demo && process.env.EMS_DEMO_SEED !== '0') await seedDemoMeters();
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
