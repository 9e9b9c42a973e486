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
//   EMS_MQTT_HOST / EMS_MQTT_PORT (LoRaWAN network server and wireless M-Bus receiver broker; empty host = no
//   connection is tried), EMS_WMBUS_TOPIC (wM-Bus telegrams, default wmbus/#),
//   EMS_LORAWAN_PLATFORM_URL, EMS_UTILITARIAN_URL / EMS_UTILITARIAN_TOKEN (push readings; empty = off),
//   EMS_RESET_FLOWS=1 (replace <user dir>/ems-flows.json with the shipped flows/ems.json).
// Security (README "Security"): the editor's accounts are the EMS users (admin edits, operator reads,
// viewer none); HOST other than loopback needs EMS_ADMIN_PASSWORD (not the demo one) and
// EMS_CREDENTIAL_SECRET; EMS_TLS_CERT / EMS_TLS_KEY (PEM files) serve everything over HTTPS;
// EMS_CORS_ORIGINS lists the origins allowed cross-origin requests (none by default).
// Needs the build (dist/): `npm start` builds first.
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
  EMS_WMBUS_TOPIC: 'wmbus/#',
  EMS_LORAWAN_PLATFORM_URL: '',
  EMS_UTILITARIAN_URL: '',
};
for (const [k, v] of Object.entries(defaults)) if (process.env[k] === undefined) process.env[k] = v;

// The live flows are a copy of the shipped flows/ems.json in the user directory: deploys in the editor never
// change a tracked file. The first start copies it; EMS_RESET_FLOWS=1 (`npm start -- --reset-flows`) copies
// it again, replacing the user's flows. A copy older than the shipped file is reported, not replaced.
const shippedFlows = path.join(__dirname, 'flows', 'ems.json');
const userFlows = path.join(userDir, 'ems-flows.json');
const shippedStamp = path.join(userDir, '.ems-flows-shipped');
const shippedHash = require('node:crypto').createHash('sha256').update(fs.readFileSync(shippedFlows)).digest('hex');
if (!fs.existsSync(userFlows) || process.env.EMS_RESET_FLOWS === '1') {
  fs.mkdirSync(userDir, { recursive: true });
  fs.copyFileSync(shippedFlows, userFlows);
  fs.writeFileSync(shippedStamp, shippedHash);
  console.log(`[ems] flows: ${userFlows} (a copy of the shipped flows/ems.json)`);
} else if ((fs.existsSync(shippedStamp) ? fs.readFileSync(shippedStamp, 'utf8').trim() : '') !== shippedHash) {
  console.warn(`[ems] the shipped flows/ems.json changed since ${userFlows} was copied from it; \`npm start -- --reset-flows\` replaces your flows with it`);
}

// No HTML stack traces with install paths in error pages.
if (!process.env.NODE_ENV) process.env.NODE_ENV = 'production';

const { DEMO_ADMIN } = require('./dist/lib/ems/auth');
const { lazyServices, editorAdminAuth, editorAuditHandler, editorLoginSource } = require('./dist/lib/ems/editor-auth');
const { httpGuard, forbiddenNotUnauthorized, parseCorsOrigins, corsOptions } = require('./dist/lib/ems/http-guard');

const DEMO_SECRET = 'ems-demo-credential-secret';
const host = (process.env.HOST || '127.0.0.1').trim();
const loopback = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i.test(host);
if (!loopback) {
  // On a network the demo defaults are not enough: refuse to start, saying what to set.
  const missing = [];
  const password = process.env.EMS_ADMIN_PASSWORD;
  if (!password || password === DEMO_ADMIN.password) missing.push('EMS_ADMIN_PASSWORD (a password of your own for the EMS admin, not the demo one)');
  if (!process.env.EMS_CREDENTIAL_SECRET || process.env.EMS_CREDENTIAL_SECRET === DEMO_SECRET) missing.push('EMS_CREDENTIAL_SECRET (a long random secret that encrypts the flows\' credentials)');
  if (missing.length) {
    const err = new Error(`[ems] refusing to listen on HOST=${host} with the demo defaults: set ${missing.join(' and ')}, ` +
      'or leave HOST unset (127.0.0.1). See README "Security".');
    err.stack = err.message; // Node-RED prints the error: the message is all there is to say
    throw err;
  }
}
if (!process.env.EMS_CREDENTIAL_SECRET) {
  console.warn('[ems] EMS_CREDENTIAL_SECRET is not set: credentials are encrypted with the demo secret. Set it in production.');
}

/** HTTPS when EMS_TLS_CERT and EMS_TLS_KEY name PEM files (both or neither). */
function tlsOptions() {
  const cert = (process.env.EMS_TLS_CERT || '').trim();
  const key = (process.env.EMS_TLS_KEY || '').trim();
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('[ems] set both EMS_TLS_CERT and EMS_TLS_KEY (PEM files) to serve HTTPS, or neither');
  return { cert: fs.readFileSync(path.resolve(cert)), key: fs.readFileSync(path.resolve(key)) };
}

// CORS: off unless EMS_CORS_ORIGINS lists origins. Node-RED's admin app installs cors({ origin: '*' })
// for every path (both roots are '/', so /api too): that call gets the EMS policy instead.
const corsOrigins = parseCorsOrigins(process.env.EMS_CORS_ORIGINS);
const cors = corsOptions(corsOrigins);
(function replaceAdminCors() {
  const file = require.resolve('cors', { paths: [path.dirname(require.resolve('@node-red/editor-api/package.json'))] });
  const original = require(file);
  if (original.emsPolicy) return;
  const policy = (options) => (options && options.origin === '*' ? (cors ? original(cors) : (req, res, next) => next()) : original(options));
  policy.emsPolicy = true;
  require.cache[file].exports = policy;
})();

// The editor's accounts are the EMS users, read from the EMS database the ems-system node opens.
const emsDbFile = (process.env.EMS_DB_PATH || '').trim() ? path.resolve(userDir, process.env.EMS_DB_PATH.trim()) : path.join(userDir, 'ems.db');
fs.mkdirSync(path.dirname(emsDbFile), { recursive: true });
const emsServices = lazyServices({ file: emsDbFile, env: process.env });
const guard = httpGuard({ corsOrigins });

module.exports = {
  uiPort: Number(process.env.PORT) || 1880,
  uiHost: host,
  https: tlsOptions(),
  adminAuth: {
    ...editorAdminAuth(emsServices, (m) => console.warn(`[ems] ${m}`)),
    sessionExpiryTime: 8 * 3600,
  },
  // Headers, CORS and capped bodies on everything served (with both roots at '/', every request
  // passes the admin app first); httpNode again for http-in routes. 401 -> 403 for a user lacking rights.
  httpAdminMiddleware: [guard, editorLoginSource(), forbiddenNotUnauthorized()],
  httpNodeMiddleware: guard,
  httpNodeCors: cors || undefined,
  httpServerOptions: { 'x-powered-by': false, env: 'production' },
  userDir,
  flowFile: userFlows,
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
  logging: {
    console: { level: process.env.EMS_LOG_LEVEL || 'info', metrics: false, audit: false },
    // The editor's changes (deploys, installs, ...) and refusals as EMS events, kind 'audit' / 'security'.
    ems: { level: 'off', metrics: false, audit: true, handler: () => editorAuditHandler(emsServices) },
  },
  exportGlobalContextKeys: false,
};
