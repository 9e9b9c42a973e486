#!/usr/bin/env node
// Issues a signed EMS license (the vendor's tool; see README "Security" > "License signing").
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');

const USAGE = `Usage:
  node scripts/issue-license.js --key <private.pem> [--customer NAME] [--meters N] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                                [--deactivated YYYY-MM-DD] [--id ID] > license.json
  node scripts/issue-license.js --generate-key <dir>
  node scripts/issue-license.js --help

--key <private.pem>     the vendor's Ed25519 private key (required to issue); never ship it
--customer NAME         the customer named in the license (default Demo)
--meters N              how many meters the EMS may define (default 100)
--from / --to           activation and expiration dates, inclusive (default today / in a year)
--deactivated DATE      withdraws the license from that day on
--id ID                 the license id (default a random UUID)
--generate-key <dir>    writes a new vendor key pair: <dir>/license-private-key.pem (keep it secret)
                        and <dir>/license-public-key.pem (ship it as lib/ems/license-public-key.pem,
                        or point EMS_LICENSE_PUBLIC_KEY at it)

The license is written to stdout as JSON { license, signature }; upload it with PUT /api/license.`;

function fail(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' }, 'generate-key': { type: 'string' },
      customer: { type: 'string', default: 'Demo' }, meters: { type: 'string', default: '100' },
      from: { type: 'string' }, to: { type: 'string' }, deactivated: { type: 'string' },
      key: { type: 'string' }, id: { type: 'string' },
    },
  }));
} catch (err) {
  fail(err.message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const { signLicense, generateLicenseKeys } = require('../dist/lib/ems/license');

if (values['generate-key'] !== undefined) {
  const dir = path.resolve(values['generate-key']);
  const priv = path.join(dir, 'license-private-key.pem');
  const pub = path.join(dir, 'license-public-key.pem');
  if (fs.existsSync(priv)) fail(`${priv} exists: not overwriting a key`);
  fs.mkdirSync(dir, { recursive: true });
  const keys = generateLicenseKeys();
  fs.writeFileSync(priv, keys.privateKey, { mode: 0o600 });
  fs.writeFileSync(pub, keys.publicKey);
  process.stdout.write(`private key (keep it, never ship it): ${priv}\npublic key (ship it): ${pub}\n`);
  process.exit(0);
}

if (!values.key) fail('--key <private.pem> is required: the Ed25519 private key that signs licenses (make one with --generate-key <dir>)');
let key;
try {
  key = fs.readFileSync(values.key, 'utf8');
  crypto.createPrivateKey(key);
} catch (err) {
  fail(`--key ${JSON.stringify(values.key)}: ${err.code === 'ENOENT' ? 'no such file' : 'not a PEM private key'}`);
}
const today = new Date().toISOString().slice(0, 10);
const inAYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
const terms = {
  id: values.id || crypto.randomUUID(),
  customer: values.customer,
  activation_date: values.from || today,
  expiration_date: values.to || inAYear,
  meter_limit: Number(values.meters),
  issued_at: new Date().toISOString(),
  ...(values.deactivated ? { deactivation_date: values.deactivated } : {}),
};
if (!Number.isSafeInteger(terms.meter_limit) || terms.meter_limit < 0) fail(`--meters ${JSON.stringify(values.meters)} must be a whole number >= 0`);
process.stdout.write(JSON.stringify(signLicense(terms, key), null, 2) + '\n');
