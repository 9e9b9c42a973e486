import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('the package', () => {
  it('exports the library without Node-RED: model, Modbus codec and bus, stores, simulators', () => {
    const lib = require(path.join(ROOT, pkg.main));
    assert.equal(lib.normaliseObis('1.8.0'), '1-0:1.8.0');
    assert.deepEqual(lib.toCanonical(1500, 'Wh'), { value: 1.5, unit: 'kWh' });
    assert.equal(typeof lib.modbus.decodeValue, 'function');
    assert.equal(typeof lib.modbus.ModbusBus, 'function');
    assert.ok(lib.modbus.listProfiles().length >= 7);
    assert.equal(typeof lib.store.openStore, 'function');
    assert.equal(typeof lib.modbusSim.ModbusMeterSimulator, 'function');
    assert.equal(typeof lib.tariff.priceConsumption, 'function');
    assert.equal(typeof lib.billing.meterBill, 'function');
    assert.equal(typeof lib.billing.openPrepaidLedger, 'function');
    assert.equal(lib.Decimal.from('0.1').add('0.2').toString(), '0.3');
    assert.ok(!Object.keys(require.cache).some((f) => f.includes(`${path.sep}node-red${path.sep}`) || f.includes('@node-red')), 'Node-RED is not loaded');
  });

  it('registers every node of nodes/ with Node-RED, with its editor, catalog and help built', () => {
    assert.equal(pkg['node-red'].version, '>=4.1.0');
    const dirs = fs.readdirSync(path.join(ROOT, 'nodes'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(Object.values(pkg['node-red'].nodes).sort(), dirs.map((d) => `dist/nodes/${d}/${d}.js`).sort());
    for (const d of dirs) {
      for (const f of [`${d}.js`, `${d}.html`, `locales/en-US/${d}.json`, `locales/en-US/${d}.html`]) {
        assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'nodes', d, f)), `dist/nodes/${d}/${f}`);
      }
      const help = fs.readFileSync(path.join(ROOT, 'nodes', d, 'locales', 'en-US', `${d}.html`), 'utf8');
      assert.match(help, /data-help-name="ems-/);
      if (!/category: 'config'/.test(fs.readFileSync(path.join(ROOT, 'nodes', d, 'editor.ts'), 'utf8'))) {
        assert.match(help, /### Inputs[\s\S]*### Outputs[\s\S]*### Details/, `${d} help has Inputs, Outputs, Details`);
      }
    }
    assert.equal(pkg.engines.node, '>=20');
    assert.deepEqual(pkg.files, ['dist/', '!dist/test/', '!dist/bench/', '!dist/**/*.map', 'examples/', 'CHANGELOG.md']);
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'protocols', 'modbus', 'profiles', 'README.md')), 'the profile format ships with the profiles');
    assert.equal(pkg.bin['ems-sim'], 'dist/bin/ems-sim.js');
    assert.equal(pkg.bin['ems-tariff'], 'dist/bin/ems-tariff.js');
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'ems', 'license-public-key.pem')), 'the license key ships');
  });
});
