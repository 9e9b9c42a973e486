#!/usr/bin/env node
// `npm start` (after the build): starts the demo's simulated meters (Modbus, M-Bus, IEC 62056-21,
// G13, LoRaWAN platform, DSMR P1, SML, DLMS/COSEM), then Node-RED with settings.js and the flows in <userDir>/ems-flows.json (a copy
// of flows/ems.json; --reset-flows copies it again). EMS_DEMO=0 skips the simulators (real meters). Ctrl-C stops both.
// With the simulators, an EMS database without meters gets the demo plant's meters (three Modbus, one per other protocol)
// (EMS_DEMO_SEED=0 skips that), so the shipped poll schedule has something to poll, and a demo license
// signed with a key pair made under <userDir>/demo-license/ (unless EMS_LICENSE_PUBLIC_KEY is set).
// Node-RED is restarted if it dies (backoff 1 s doubling to 60 s), the simulators keep running.
'use strict';
require('./help')(__filename);
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
  const sims = [sim];
  // The other protocols' demo devices, started as `ems-sim <name>` would (EMS_DEMO_<NAME>_PORT moves one).
  const { findSimulator } = require(path.join(root, 'dist/lib/sim'));
  for (const demoSim of DEMO_SIMULATORS) {
    const entry = findSimulator(demoSim.name);
    const envPort = process.env[`EMS_DEMO_${demoSim.name.replace(/-/g, '_').toUpperCase()}_PORT`];
    const values = { ...demoSim.options, port: envPort || demoSim.options.port };
    const running = await entry.start(entry.parse(values));
    demoSim.port = Number(values.port);
    sims.push(running);
    console.log(`[ems] demo ${running.describe().split('\n')[0]}`);
  }
  return sims;
}

/**
 * One simulated device per other protocol, each with one demo meter in the "Demo plant" folder.
 * `meter` is the definition POST /api/meters would take (port filled in from the simulator).
 */
const DEMO_SIMULATORS = [
  { name: 'mbus', options: { port: process.env.EMS_MBUS_PORT || '10001' },
    meter: { id: 'heat-meter', name: 'Heat meter (M-Bus)', protocol: 'mbus', connection_address: '1', interval_time: 60 } },
  { name: 'iec62056', options: { port: '6210' },
    meter: { id: 'optical-meter', name: 'Optical meter (IEC 62056-21)', protocol: 'iec62056-21', connection_address: '12345678', interval_time: 60 } },
  { name: 'g13', options: { port: '8443', http: true, users: ['admin:ems-demo:admin'] },
    meter: { id: 'g13-meter', name: 'ABB A44 behind a G13', protocol: 'g13', connection_address: 'ABB_8', password: 'admin:ems-demo', profile: 'plain', interval_time: 60 } },
  { name: 'lorawan-platform', options: { port: '8090' },
    meter: { id: 'water-meter', name: 'Water meter (LoRaWAN platform)', protocol: 'lorawan-platform', number_meter: '8cf9572000010105', password: 'karly:123456', interval_time: 300 } },
  { name: 'p1', options: { port: '2001' },
    meter: { id: 'p1-meter', name: 'Smart meter P1 port (DSMR 5, serial bridge)', protocol: 'p1', interval_time: 60 } },
  { name: 'sml', options: { port: '7259' },
    meter: { id: 'sml-meter', name: 'eHZ meter (SML, IR head bridge)', protocol: 'sml', interval_time: 60 } },
  { name: 'dlms', options: { port: '4059' },
    meter: { id: 'grid-meter', name: 'Grid meter (DLMS/COSEM, LLS)', protocol: 'dlms', connection_address: '1', security_level: 'lls', password: '12345678', interval_time: 60 } },
];

/** The EMS database the ems-system node opens: EMS_DB_PATH (relative = under the user dir) or <userDir>/ems.db. */
function emsDbPath() {
  const configured = (process.env.EMS_DB_PATH || '').trim();
  return configured ? path.resolve(userDir(), configured) : path.join(userDir(), 'ems.db');
}

function userDir() {
  return path.resolve(process.env.EMS_USER_DIR || path.join(root, '.node-red'));
}

/**
 * The demo's license key: without EMS_LICENSE_PUBLIC_KEY, a key pair made once under
 * <userDir>/demo-license/ (outside the package; the vendor's private key never ships), whose public
 * key the EMS then trusts (EMS_LICENSE_PUBLIC_KEY is set for Node-RED). Returns the private key, or
 * null when the user set their own public key (then no demo license is issued).
 */
function demoLicenseKey() {
  if ((process.env.EMS_LICENSE_PUBLIC_KEY || '').trim()) return null;
  const fs = require('node:fs');
  const { generateLicenseKeys } = require(path.join(root, 'dist/lib/ems/license'));
  const dir = path.join(userDir(), 'demo-license');
  const priv = path.join(dir, 'license-private-key.pem');
  const pub = path.join(dir, 'license-public-key.pem');
  if (!fs.existsSync(priv) || !fs.existsSync(pub)) {
    fs.mkdirSync(dir, { recursive: true });
    const keys = generateLicenseKeys();
    fs.writeFileSync(priv, keys.privateKey, { mode: 0o600 });
    fs.writeFileSync(pub, keys.publicKey);
    console.log(`[ems] demo license key pair made in ${dir}`);
  }
  process.env.EMS_LICENSE_PUBLIC_KEY = pub;
  return fs.readFileSync(priv, 'utf8');
}

/**
 * The demo plant has more meters than an unlicensed EMS polls (5): without a valid license, install a
 * demo license for 20 meters and a year, signed with the demo key pair.
 */
function installDemoLicense(services, privateKey) {
  if (!privateKey || services.license.current()) return;
  const crypto = require('node:crypto');
  const { signLicense } = require(path.join(root, 'dist/lib/ems/license'));
  const now = Date.now();
  const terms = {
    id: crypto.randomUUID(), customer: 'Demo plant', meter_limit: 20, issued_at: new Date(now).toISOString(),
    activation_date: new Date(now).toISOString().slice(0, 10), expiration_date: new Date(now + 365 * 86_400_000).toISOString().slice(0, 10),
  };
  try {
    services.license.upload(JSON.stringify(signLicense(terms, privateKey)), 'npm start');
    console.log('[ems] demo license installed: 20 meters until ' + terms.expiration_date);
  } catch (err) {
    console.log(`[ems] no demo license (${err.message}); the unlicensed EMS polls at most 5 meters`);
  }
}

/** Installs the demo license, and defines the demo plant's meters in an EMS database that has none (fixed ids, polled every 10 s). */
async function seedDemo(seedMeters) {
  const privateKey = demoLicenseKey();
  const fs = require('node:fs');
  const { openEmsServices } = require(path.join(root, 'dist/lib/ems'));
  const file = emsDbPath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const services = await openEmsServices({ file, env: process.env });
  try {
    installDemoLicense(services, privateKey);
    if (!seedMeters || services.registry.meterCount() > 0) return;
    const folder = services.registry.createFolder({ name: 'Demo plant', folder_type: 'site' });
    const meters = [['main-incomer', 'Main incomer'], ['hvac', 'HVAC'], ['lighting', 'Lighting']];
    meters.forEach(([id, name], i) => services.registry.createMeter({
      name, folder_id: folder._id, protocol: 'modbus-tcp', ip_address: process.env.EMS_MODBUS_HOST, port: Number(process.env.EMS_MODBUS_PORT),
      connection_address: String(DEMO_UNITS[i].unit), profile: DEMO_UNITS[i].profile, interval_time: 10,
    }, undefined, id));
    for (const demoSim of DEMO_SIMULATORS) {
      const { id, ...def } = demoSim.meter;
      services.registry.createMeter({ ...def, folder_id: folder._id, ip_address: '127.0.0.1', port: demoSim.port }, undefined, id);
      meters.push([id]);
    }
    console.log(`[ems] demo meters ${meters.map(([id]) => id).join(', ')} defined in ${file}`);
  } finally {
    services.close();
  }
}

/** Restart delays: 1 s doubling to 60 s; back to 1 s after a minute of uptime. */
const BACKOFF = { firstMs: 1000, maxMs: 60_000, resetAfterMs: 60_000 };

/**
 * Runs Node-RED and restarts it whenever it dies (a non-zero exit or a signal other than SIGINT/SIGTERM),
 * with exponential backoff; the simulators keep running. Ctrl-C or SIGTERM stops everything.
 */
function superviseNodeRed(sims) {
  let red = null;
  let stopping = false;
  let delay = BACKOFF.firstMs;
  let restarts = 0;
  let timer = null;
  const finish = async (code) => {
    clearTimeout(timer);
    await Promise.all(sims.map((s) => s.close()));
    process.exit(code);
  };
  const launch = () => {
    const started = Date.now();
    red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--settings', path.join(root, 'settings.js')], {
      cwd: root, stdio: 'inherit', env: process.env,
    });
    red.on('exit', (code, signal) => {
      red = null;
      if (stopping) { finish(0); return; }
      if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') { stopping = true; finish(code ?? 0); return; }
      const uptime = Date.now() - started;
      if (uptime >= BACKOFF.resetAfterMs) delay = BACKOFF.firstMs;
      restarts++;
      console.log(`[ems] Node-RED died (${signal ? `signal ${signal}` : `exit code ${code}`}) after ${Math.round(uptime / 1000)} s; ` +
        `restart ${restarts} in ${delay / 1000} s`);
      timer = setTimeout(launch, delay);
      delay = Math.min(delay * 2, BACKOFF.maxMs);
    });
  };
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    if (red && red.exitCode === null) red.kill(signal);
    else finish(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  launch();
}

async function main() {
  // `npm start -- --reset-flows` replaces the user's flows with the shipped ones (settings.js copies them).
  if (process.argv.includes('--reset-flows')) process.env.EMS_RESET_FLOWS = '1';
  // A settings error (e.g. HOST on a network with the demo password) is reported once, not restarted.
  try {
    require(path.join(root, 'settings.js'));
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  // Copied once: a Node-RED restarted after a crash keeps what was deployed since.
  delete process.env.EMS_RESET_FLOWS;
  const sims = demo ? await startSimulators() : [];
  if (demo) await seedDemo(process.env.EMS_DEMO_SEED !== '0');
  superviseNodeRed(sims);
}

main().catch((err) => {
  console.error(`[ems] cannot start: ${err.message}`);
  process.exit(1);
});
