#!/usr/bin/env node
// Starts a local InfluxDB 1.x and VictoriaMetrics (127.0.0.1 only, data in temp dirs) for manual
// runs of the influxdb store, prints their URLs and the environment to use, and stops both (removing
// their data) on Ctrl-C / SIGTERM. Needs a build: it uses dist/test/fixtures/services.js
// (run `node scripts/build.js` first). `node scripts/services.js influxdb` or `... victoria` starts one.
'use strict';
require('./help')(__filename);
const path = require('node:path');
const fs = require('node:fs');

const lib = path.join(__dirname, '..', 'dist', 'test', 'fixtures', 'services.js');
if (!fs.existsSync(lib)) {
  console.error(`${lib} is missing: run \`node scripts/build.js\` first`);
  process.exit(1);
}
const { startInfluxdb1, startVictoriaMetrics, influxdbMissing, victoriaMetricsMissing } = require(lib);

const which = process.argv.slice(2);
const want = (name) => which.length === 0 || which.includes(name);

async function main() {
  const running = [];
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(running.map((s) => s.stop()));
    process.exit(code);
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  try {
    if (want('influxdb')) {
      const missing = influxdbMissing();
      if (missing) console.error(`influxdb: ${missing}`);
      else {
        const s = await startInfluxdb1();
        running.push(s);
        await fetch(`${s.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE "ems"' }) });
        console.log(`InfluxDB 1.x       ${s.url}  (pid ${s.pid}, data ${s.dir}; database "ems" created)`);
        console.log(`  EMS_STORE=influxdb EMS_INFLUX_URL=${s.url} EMS_INFLUX_VERSION=1 EMS_INFLUX_DB=ems`);
      }
    }
    if (want('victoria')) {
      const missing = victoriaMetricsMissing();
      if (missing) console.error(`victoria-metrics: ${missing}`);
      else {
        const s = await startVictoriaMetrics();
        running.push(s);
        console.log(`VictoriaMetrics    ${s.url}  (pid ${s.pid}, data ${s.dir}; writes: ${s.url}/api/v2/write, export: ${s.url}/api/v1/export)`);
        console.log('  write-only for the influxdb store: it accepts /api/v2/write (any org/bucket, no label added) but serves no InfluxQL /query');
      }
    }
  } catch (err) {
    console.error(err.message);
    await stopAll(1);
    return;
  }
  if (running.length === 0) process.exit(1);
  console.log('Ctrl-C stops them and removes their data.');
}

main();
