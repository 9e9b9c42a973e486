#!/usr/bin/env node
// Issues a signed EMS license for tests and demos:
//   node scripts/issue-license.js --customer ACME --meters 100 --from 2026-01-01 --to 2027-12-31 [--deactivated 2026-06-01] [--key FILE] > license.json
// Signs with scripts/demo-license-key.pem (the pair of lib/ems/license-public-key.pem) unless --key
// names another Ed25519 private key. A vendor ships its own public key and keeps its private key.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const { signLicense } = require('../dist/lib/ems/license');

const { values } = parseArgs({
  options: {
    customer: { type: 'string', default: 'Demo' }, meters: { type: 'string', default: '100' },
    from: { type: 'string' }, to: { type: 'string' }, deactivated: { type: 'string' },
    key: { type: 'string', default: path.join(__dirname, 'demo-license-key.pem') }, id: { type: 'string' },
  },
});
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
if (!Number.isSafeInteger(terms.meter_limit) || terms.meter_limit < 0) {
  process.stderr.write(`--meters ${JSON.stringify(values.meters)} must be a whole number >= 0\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(signLicense(terms, fs.readFileSync(values.key, 'utf8')), null, 2) + '\n');
