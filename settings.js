// Node-RED settings for the shipped EMS (`npm start`, and the end-to-end tests).
// Environment variables (all optional; the README lists them):
//   PORT (1880), HOST (127.0.0.1), EMS_USER_DIR (./.node-red), EMS_CREDENTIAL_SECRET,
//   EMS_MODBUS_HOST / EMS_MODBUS_PORT (the demo meters' Modbus TCP endpoint, 127.0.0.1:5020),
//   EMS_SQLITE_PATH (readings file; default <user dir>/ems-readings.sqlite), EMS_DB_PATH (the EMS database;
//   default <user dir>/ems.db), EMS_ADMIN_USER / EMS_ADMIN_PASSWORD (first admin), EMS_TIME_ZONE, EMS_LOG_LEVEL,
//   EMS_STORE (sqlite | influxdb), EMS_INFLUX_URL, EMS_INFLUX_VERSION (1 | 2), EMS_INFLUX_DB (1.x),
//   EMS_INFLUX_ORG / EMS_INFLUX_BUCKET (2.x, 3.x); EMS_INFLUX_USER / EMS_INFLUX_PASSWORD / EMS_INFLUX_TOKEN
//   are read by the ems-store node itself (never written into the flow).
//   EMS_MBUS_HOST / EMS_MBUS_PORT (default M-Bus TCP gateway, 127.0.0.1:10001; a meter's own ip_address/port wins),
//   EMS_MQTT_HOST / EMS_MQTT_PORT (LoRaWAN network server broker; empty host = no connection is tried),
//   EMS_LORAWAN_PLATFORM_URL, EMS_UTILITARIAN_URL / EMS_UTILITARIAN_TOKEN (push readings; empty = off).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const userDir = path.resolve(process.env.EMS_USER_DIR || path.join(__dirname, '.node-red'));

// Load the suite from this checkout: Node-RED scans <userDir>/node_modules for packages with a
// "node-red" section, so link the checkout there (as `npm install <path>` in ~/.node-red would).
const link = path.join(userDir, 'node_modules', 'node-red-contrib-ems');
fs.mkdirSync(path.dirname(link), { recursive: true });
let linked = false;
try { linked = fs.realpathSync(link) === fs.realpathSync(__dirname); } catch { /* missing or dangling */ }
if (!linked) {
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(__dirname, link, 'dir');
}

// Defaults for the properties of flows/ems.json that read the environment (${VAR} in a node property).
const defaults = {
  EMS_MODBUS_HOST: '127.0.0.1',
  EMS_MODBUS_PORT: '5020',
  EMS_SQLITE_PATH: '',
  EMS_DB_PATH: '',
  EMS_TIME_ZONE: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  // The readings store: the embedded SQLite file unless EMS_STORE=influxdb.
  EMS_STORE: 'sqlite',
  EMS_INFLUX_VERSION: '1',
  EMS_INFLUX_URL: '',
  EMS_INFLUX_DB: 'ems',
  EMS_INFLUX_ORG: '',
  EMS_INFLUX_BUCKET: '',
  EMS_MBUS_HOST: '127.0.0.1',
  EMS_MBUS_PORT: '10001',
  EMS_MQTT_HOST: '',
  EMS_MQTT_PORT: '1883',
  EMS_LORAWAN_PLATFORM_URL: '',
  EMS_UTILITARIAN_URL: '',
};
for (const [k, v] of Object.entries(defaults)) if (process.env[k] === undefined) process.env[k] = v;

const DEMO_SECRET = 'ems-demo-credential-secret';
if (!process.env.EMS_CREDENTIAL_SECRET) {
  console.warn('[ems] EMS_CREDENTIAL_SECRET is not set: credentials are encrypted with the demo secret. Set it in production.');
}

module.exports = {
  uiPort: Number(process.env.PORT) || 1880,
  uiHost: process.env.HOST || '127.0.0.1',
  userDir,
  flowFile: path.join(__dirname, 'flows', 'ems.json'),
  flowFilePretty: true,
  credentialSecret: process.env.EMS_CREDENTIAL_SECRET || DEMO_SECRET,
  // The EMS's HTTP API is served by http-in nodes under /api (see flows/ems.json); the editor at /.
  httpAdminRoot: '/',
  httpNodeRoot: '/',
  apiMaxLength: '5mb',
  functionExternalModules: false,
  externalModules: { palette: { allowInstall: true } },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false },
  editorTheme: {
    projects: { enabled: false },
    tours: false,
    palette: { catalogues: [] },
    page: { title: 'node-red-contrib-ems' },
    header: { title: 'EMS' },
  },
  logging: { console: { level: process.env.EMS_LOG_LEVEL || 'info', metrics: false, audit: false } },
  exportGlobalContextKeys: false,
};
