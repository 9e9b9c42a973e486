import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILTIN_PROFILE_DIR, listProfiles, loadProfile, resolveValues, validateProfile } from '../../lib/protocols/modbus/profile';
import { decodeValue, rawUnsigned, registerCount } from '../../lib/protocols/modbus/datatypes';
import { planReads } from '../../lib/protocols/modbus/plan';
import { isKnownUnit, roundNoise } from '../../lib/model/units';
import { normaliseObis } from '../../lib/model/obis';
import type { Profile, ResolvedValue } from '../../lib/protocols/modbus/types';

const SHIPPED = [
  'abb-a44',
  'abb-b23',
  'carlo-gavazzi-em24',
  'eastron-sdm120',
  'eastron-sdm630',
  'janitza-umg604',
  'schneider-iem3000',
];

/** The resolved value of a profile with this OBIS code; fails the test when there is none. */
function value(id: string, obis: string): ResolvedValue {
  const v = resolveValues(loadProfile(id)).find((r) => r.obis === normaliseObis(obis));
  assert.ok(v, `${id} has no value ${obis}`);
  return v;
}

/** Scaled reading of a value from wire bytes (raw * scale, binary noise removed as the unit conversion does). */
function read(v: ResolvedValue, hex: string): number {
  return roundNoise(decodeValue(Buffer.from(hex.replace(/\s+/g, ''), 'hex'), 0, v) * v.scale);
}

function minimal(values: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'test-map',
    manufacturer: 'ACME',
    model: 'M1',
    source: 'ACME M1 manual',
    defaults: { type: 'float32', wordOrder: 'big', byteOrder: 'big', table: 'input' },
    maxBlock: 80,
    values,
    ...extra,
  };
}

describe('shipped profiles', () => {
  test('listProfiles finds every shipped profile as built-in', () => {
    const list = listProfiles();
    const ids = list.map((p) => p.id);
    for (const id of SHIPPED) assert.ok(ids.includes(id), `listProfiles() lacks ${id}`);
    for (const p of list.filter((x) => SHIPPED.includes(x.id))) {
      assert.equal(p.builtIn, true);
      assert.ok(p.values >= 10, `${p.id} has only ${p.values} values`);
    }
  });

  for (const id of SHIPPED) {
    test(`${id} loads, validates and is self-consistent`, () => {
      const p = loadProfile(id);
      assert.equal(p.id, id);
      assert.doesNotThrow(() => validateProfile(JSON.parse(fs.readFileSync(path.join(BUILTIN_PROFILE_DIR, `${id}.json`), 'utf8')), id));
      assert.ok(p.source.length > 10, 'source names the manufacturer document');
      assert.ok(p.maxBlock >= 4 && p.maxBlock <= 125);
      for (const v of resolveValues(p)) {
        assert.ok(isKnownUnit(v.unit), `${v.name}: unit ${v.unit}`);
        assert.ok(v.register + registerCount(v.type) <= 65536);
        assert.ok(registerCount(v.type) <= p.maxBlock);
        // Energies are registers (C.8.x), powers/instantaneous values C.7.x.
        const d = Number(v.obis.split('.')[1]);
        if (['Wh', 'kWh', 'varh', 'kvarh'].includes(v.unit)) assert.equal(d, 8, `${v.name} is an energy: ${v.obis}`);
        else assert.equal(d, 7, `${v.name} is instantaneous: ${v.obis}`);
      }
      // The read plan respects the meter's limits: no request above maxBlock, every value inside one request.
      const plan = planReads(p);
      for (const b of plan.blocks) assert.ok(b.count <= p.maxBlock, `${id}: block ${b.start}+${b.count} > ${p.maxBlock}`);
      for (const v of plan.values) {
        assert.ok(plan.blocks.some((b) => b.table === v.table && b.start <= v.register && v.register + registerCount(v.type) <= b.start + b.count));
      }
      if (p.serial) {
        assert.ok([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].includes(p.serial.baudRate));
        assert.equal(p.serial.dataBits, 8);
      }
    });
  }
});

describe('spot checks against the manufacturer tables', () => {
  test('Eastron SDM630: L1 voltage is input register 0, float32 V, big-endian', () => {
    const v = value('eastron-sdm630', '1-0:32.7.0');
    assert.deepEqual([v.table, v.register, v.type, v.wordOrder, v.byteOrder, v.unit, v.scale], ['input', 0, 'float32', 'big', 'big', 'V', 1]);
    assert.equal(read(v, '43 66 80 00'), 230.5);
  });

  test('Eastron SDM630: energies at 30073/30075 (0x48/0x4A), total kWh 30343 (0x156) is import + export', () => {
    assert.equal(value('eastron-sdm630', '1-0:1.8.0').register, 0x0048);
    assert.equal(value('eastron-sdm630', '1-0:2.8.0').register, 0x004A);
    assert.equal(value('eastron-sdm630', '1-0:1.8.0').unit, 'kWh');
    const total = value('eastron-sdm630', '1-0:15.8.0');
    assert.equal(total.register, 0x0156);
    assert.match(total.name, /import \+ export/);
    assert.equal(value('eastron-sdm630', '1-0:16.7.0').register, 0x0034);
    assert.equal(value('eastron-sdm630', '1-0:14.7.0').register, 0x0046);
    assert.equal(value('eastron-sdm630', '1-0:91.7.0').register, 0x00E0);
    assert.equal(value('eastron-sdm630', '1-0:21.8.0').register, 0x015A);
    assert.equal(value('eastron-sdm630', '1-0:62.8.0').register, 0x0164);
    assert.equal(loadProfile('eastron-sdm630').maxBlock, 80, '40 parameters per request');
  });

  test('Eastron SDM120: single phase, 2400 baud 8N1, same energy registers as the SDM630', () => {
    const p = loadProfile('eastron-sdm120');
    assert.deepEqual(p.serial, { baudRate: 2400, parity: 'none', dataBits: 8, stopBits: 1 });
    assert.equal(value('eastron-sdm120', '1-0:32.7.0').register, 0);
    assert.equal(value('eastron-sdm120', '1-0:31.7.0').register, 6);
    assert.equal(value('eastron-sdm120', '1-0:16.7.0').register, 0x000C);
    assert.equal(value('eastron-sdm120', '1-0:1.8.0').register, 0x0048);
    assert.equal(value('eastron-sdm120', '1-0:2.8.0').register, 0x004A);
    assert.equal(resolveValues(p).every((v) => v.table === 'input' && v.type === 'float32'), true);
  });

  for (const id of ['abb-a44', 'abb-b23']) {
    test(`${id}: energies are holding uint64 from 0x5000 in 0.01 kWh, all-ones means no data`, () => {
      const imp = value(id, '1-0:1.8.0');
      assert.deepEqual([imp.table, imp.register, imp.type, imp.scale, imp.unit], ['holding', 0x5000, 'uint64', 0.01, 'kWh']);
      assert.equal(value(id, '1-0:2.8.0').register, 0x5004);
      assert.equal(value(id, '1-0:3.8.0').register, 0x500C);
      assert.equal(value(id, '1-0:4.8.0').register, 0x5010);
      assert.deepEqual([1, 2, 3, 4].map((t) => value(id, `1-0:1.8.${t}`).register), [0x5170, 0x5174, 0x5178, 0x517C]);
      assert.deepEqual([1, 2, 3, 4].map((t) => value(id, `1-0:2.8.${t}`).register), [0x5190, 0x5194, 0x5198, 0x519C]);
      const ff = Buffer.alloc(8, 0xff);
      assert.ok(imp.notAvailable?.includes(rawUnsigned(ff, 0, imp)), 'FF FF FF FF FF FF FF FF is "no data"');
      // Worked example of the manual: L1 active import energy 00 00 00 00 00 03 12 92 -> 2013.62 kWh.
      const l1 = value(id, '1-0:21.8.0');
      assert.equal(l1.register, 0x5460);
      assert.equal(read(l1, '00 00 00 00 00 03 12 92'), 2013.62);
      assert.equal(value(id, '1-0:22.8.0').register, 0x546C);
    });

    test(`${id}: instantaneous values from 0x5B00 with the manual's resolutions`, () => {
      const u1 = value(id, '1-0:32.7.0');
      assert.deepEqual([u1.register, u1.type, u1.scale, u1.unit], [0x5B00, 'uint32', 0.1, 'V']);
      const i1 = value(id, '1-0:31.7.0');
      assert.deepEqual([i1.register, i1.type, i1.scale], [0x5B0C, 'uint32', 0.01]);
      assert.equal(read(i1, '00 00 00 65'), 1.01);
      assert.equal(value(id, '1-0:91.7.0').register, 0x5B12);
      const p = value(id, '1-0:16.7.0');
      assert.deepEqual([p.register, p.type, p.scale, p.unit], [0x5B14, 'int32', 0.01, 'W']);
      assert.equal(read(p, '00 01 E8 E4'), 1251.56);
      assert.equal(value(id, '1-0:3.7.0').register, 0x5B1C);
      assert.equal(read(value(id, '1-0:3.7.0'), 'FF FF D0 4A'), -122.14);
      assert.equal(value(id, '1-0:9.7.0').register, 0x5B24);
      const hz = value(id, '1-0:14.7.0');
      assert.deepEqual([hz.register, hz.type], [0x5B2C, 'uint16']);
      assert.equal(read(hz, '13 83'), 49.95);
      const pf = value(id, '1-0:13.7.0');
      assert.deepEqual([pf.register, pf.type, pf.scale], [0x5B3A, 'int16', 0.001]);
      assert.equal(read(pf, '03 CC'), 0.972);
      assert.equal(value(id, '1-0:33.7.0').register, 0x5B3B);
      assert.equal(value(id, '1-0:73.7.0').register, 0x5B3D);
    });
  }

  test('ABB: a reading of 0x7FFFFFFF (signed no-data marker) is flagged for signed powers', () => {
    const p = value('abb-a44', '1-0:16.7.0');
    assert.ok(p.notAvailable?.includes(rawUnsigned(Buffer.from('7fffffff', 'hex'), 0, p)));
  });

  test('Carlo Gavazzi EM24: INT32 least significant word first, fixed value weights', () => {
    const imp = value('carlo-gavazzi-em24', '1-0:1.8.0');
    assert.deepEqual([imp.register, imp.type, imp.wordOrder, imp.byteOrder, imp.scale, imp.unit], [0x34, 'int32', 'little', 'big', 0.1, 'kWh']);
    // 12345.6 kWh = 123456 = 0x0001E240, sent LSW first: E2 40 00 01.
    assert.equal(read(imp, 'E2 40 00 01'), 12345.6);
    assert.equal(value('carlo-gavazzi-em24', '1-0:2.8.0').register, 0x4E);
    const v1 = value('carlo-gavazzi-em24', '1-0:32.7.0');
    assert.deepEqual([v1.register, v1.scale], [0x00, 0.1]);
    const i1 = value('carlo-gavazzi-em24', '1-0:31.7.0');
    assert.deepEqual([i1.register, i1.scale], [0x0C, 0.001]);
    const p = value('carlo-gavazzi-em24', '1-0:16.7.0');
    assert.deepEqual([p.register, p.scale], [0x28, 0.1]);
    assert.equal(read(p, 'FF FC FF FF'), -0.4, 'negative INT32 with swapped words');
    const pf = value('carlo-gavazzi-em24', '1-0:13.7.0');
    assert.deepEqual([pf.register, pf.type, pf.scale], [0x31, 'int16', 0.001]);
    const hz = value('carlo-gavazzi-em24', '1-0:14.7.0');
    assert.deepEqual([hz.register, hz.type, hz.scale], [0x33, 'int16', 0.1]);
    assert.equal(value('carlo-gavazzi-em24', '1-0:21.8.0').register, 0x40);
  });

  test('Schneider iEM3000: register numbers minus 1, float32 instantaneous, INT64 energies in Wh, tariffs A-D', () => {
    const p = loadProfile('schneider-iem3000');
    assert.equal(p.maxGap, 0);
    assert.deepEqual(p.serial, { baudRate: 19200, parity: 'even', dataBits: 8, stopBits: 1 });
    const i1 = value('schneider-iem3000', '1-0:31.7.0');
    assert.deepEqual([i1.table, i1.register, i1.type], ['holding', 2999, 'float32']);
    assert.equal(value('schneider-iem3000', '1-0:32.7.0').register, 3027);
    const ptot = value('schneider-iem3000', '1-0:16.7.0');
    assert.deepEqual([ptot.register, ptot.unit], [3059, 'kW']);
    const imp = value('schneider-iem3000', '1-0:1.8.0');
    assert.deepEqual([imp.register, imp.type, imp.unit, imp.scale], [3203, 'int64', 'Wh', 1]);
    assert.equal(read(imp, '00 00 00 00 00 BC 61 4E'), 12345678);
    assert.equal(value('schneider-iem3000', '1-0:2.8.0').register, 3207);
    assert.deepEqual([1, 2, 3, 4].map((t) => value('schneider-iem3000', `1-0:1.8.${t}`).register), [4195, 4199, 4203, 4207]);
    // maxGap 0: the plan never reads a register the map does not list.
    const listed = new Set(resolveValues(p).flatMap((v) => Array.from({ length: registerCount(v.type) }, (_, k) => v.register + k)));
    for (const b of planReads(p).blocks) for (let r = b.start; r < b.start + b.count; r++) assert.ok(listed.has(r), `register ${r} is not in the map`);
  });

  test('Janitza UMG 604: float32 holding registers from 19000, energies consumed/delivered in Wh', () => {
    const v1 = value('janitza-umg604', '1-0:32.7.0');
    assert.deepEqual([v1.table, v1.register, v1.type], ['holding', 19000, 'float32']);
    assert.equal(value('janitza-umg604', '1-0:16.7.0').register, 19026);
    assert.equal(value('janitza-umg604', '1-0:14.7.0').register, 19050);
    const imp = value('janitza-umg604', '1-0:1.8.0');
    assert.deepEqual([imp.register, imp.unit], [19068, 'Wh']);
    assert.equal(value('janitza-umg604', '1-0:2.8.0').register, 19076);
  });
});

describe('validateProfile', () => {
  const good = () => minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWh' }]);

  test('accepts a minimal map', () => {
    assert.equal(validateProfile(good()).id, 'test-map');
  });

  test('rejects a bad data type, naming the field and the value', () => {
    const p = minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWh', type: 'int24' }]);
    assert.throws(() => validateProfile(p), (e: Error) => {
      assert.match(e.message, /profile "test-map": values\[0\]\.type is "int24", expected one of int16, uint16/);
      return true;
    });
    assert.throws(() => validateProfile(minimal([], { defaults: { type: 'double', wordOrder: 'big', byteOrder: 'big', table: 'input' } })),
      /defaults\.type is "double"/);
  });

  test('rejects a bad OBIS code', () => {
    const p = minimal([{ obis: '1.8', name: 'Import', register: 72, unit: 'kWh' }]);
    assert.throws(() => validateProfile(p), /values\[0\]\.obis is "1\.8", expected an OBIS code such as 1-0:1\.8\.0/);
  });

  test('rejects a unit that is not in the unit table', () => {
    const p = minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWhh' }]);
    assert.throws(() => validateProfile(p), /values\[0\]\.unit is "kWhh", expected a unit of the unit table/);
  });

  test('rejects overlapping values, naming both', () => {
    const p = minimal([
      { obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWh' },
      { obis: '1-0:2.8.0', name: 'Export', register: 73, unit: 'kWh' },
    ]);
    assert.throws(() => validateProfile(p), /"Export" at input register 73 overlaps "Import" at 72/);
  });

  test('values in different tables do not overlap', () => {
    const p = minimal([
      { obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWh' },
      { obis: '1-0:2.8.0', name: 'Export', register: 72, unit: 'kWh', table: 'holding' },
    ]);
    assert.doesNotThrow(() => validateProfile(p));
  });

  test('rejects maxBlock 0 and above 125', () => {
    assert.throws(() => validateProfile({ ...good(), maxBlock: 0 }), /maxBlock is 0, expected an integer 1\.\.125/);
    assert.throws(() => validateProfile({ ...good(), maxBlock: 126 }), /maxBlock is 126/);
  });

  test('rejects a maxBlock smaller than a value', () => {
    const p = minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 0, unit: 'Wh', type: 'int64' }], { maxBlock: 2 });
    assert.throws(() => validateProfile(p), /maxBlock is 2, expected at least 4 \(Import is int64\)/);
  });

  test('rejects register 70000 and a value running past 65535', () => {
    const p = minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 70000, unit: 'kWh' }]);
    assert.throws(() => validateProfile(p), /values\[0\]\.register is 70000, expected an integer 0\.\.65535/);
    const q = minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 65535, unit: 'kWh' }]);
    assert.throws(() => validateProfile(q), /value "Import" register is 65535/);
  });

  test('rejects a duplicate OBIS code, also when spelled differently', () => {
    const p = minimal([
      { obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWh' },
      { obis: '1.8.0', name: 'Import again', register: 100, unit: 'kWh' },
    ]);
    assert.throws(() => validateProfile(p), /values\[1\]\.obis is "1\.8\.0", expected a code not used by another value/);
  });

  test('rejects missing fields and bad optional fields', () => {
    assert.throws(() => validateProfile(null), /the profile is null, expected a JSON object/);
    assert.throws(() => validateProfile({ ...good(), source: '' }), /source is "", expected a non-empty string/);
    assert.throws(() => validateProfile({ ...good(), values: [] }), /values is \[\], expected a non-empty array/);
    assert.throws(() => validateProfile(minimal([{ obis: '1-0:1.8.0', name: 'I', register: 1, unit: 'kWh', scale: 0 }])), /values\[0\]\.scale is 0/);
    assert.throws(() => validateProfile(minimal([{ obis: '1-0:1.8.0', name: 'I', register: 1, unit: 'kWh', ratio: 'pt' }])), /values\[0\]\.ratio is "pt"/);
    assert.throws(() => validateProfile(minimal([{ obis: '1-0:1.8.0', name: 'I', register: 1, unit: 'kWh', table: 'coil' }])), /values\[0\]\.table is "coil"/);
    assert.throws(() => validateProfile(minimal([{ obis: '1-0:1.8.0', name: 'I', register: 1, unit: 'kWh', notAvailable: ['x'] }])), /values\[0\]\.notAvailable is \["x"\]/);
    assert.throws(() => validateProfile({ ...good(), maxGap: -1 }), /maxGap is -1/);
  });
});

describe('resolveValues', () => {
  test('fills the profile defaults and normalises OBIS codes', () => {
    const p = validateProfile(minimal([
      { obis: '1.8.0', name: 'Import', register: 72, unit: 'kWh' },
      { obis: '1-0:16.7.0', name: 'Power', register: 10, unit: 'W', type: 'int32', wordOrder: 'little', table: 'holding', scale: 0.1, ratio: 'ct*vt', notAvailable: [2147483647] },
    ]));
    const [a, b] = resolveValues(p);
    assert.deepEqual(a, {
      obis: '1-0:1.8.0', name: 'Import', register: 72, unit: 'kWh', table: 'input', type: 'float32', wordOrder: 'big', byteOrder: 'big',
      scale: 1, scaleRegister: undefined, ratio: undefined, notAvailable: undefined,
    });
    assert.deepEqual([b.table, b.type, b.wordOrder, b.byteOrder, b.scale, b.ratio, b.notAvailable], ['holding', 'int32', 'little', 'big', 0.1, 'ct*vt', [2147483647]]);
  });
});

describe('user profile folders', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ems-profiles-'));

  test('a profile in the user folder is listed and loaded; it can override a built-in one', () => {
    const dir = tmp();
    try {
      fs.writeFileSync(path.join(dir, 'my-meter.json'), JSON.stringify(minimal([{ obis: '1-0:1.8.0', name: 'Import', register: 0, unit: 'Wh' }], { id: 'my-meter' })));
      const sdm = JSON.parse(fs.readFileSync(path.join(BUILTIN_PROFILE_DIR, 'eastron-sdm630.json'), 'utf8')) as Profile;
      sdm.maxBlock = 40;
      fs.writeFileSync(path.join(dir, 'eastron-sdm630.json'), JSON.stringify(sdm));
      const list = listProfiles([dir]);
      assert.equal(list.find((p) => p.id === 'my-meter')?.builtIn, false);
      assert.equal(list.find((p) => p.id === 'eastron-sdm630')?.builtIn, false);
      assert.equal(list.find((p) => p.id === 'abb-a44')?.builtIn, true);
      assert.equal(loadProfile('eastron-sdm630', [dir]).maxBlock, 40);
      assert.equal(loadProfile('eastron-sdm630').maxBlock, 80);
      assert.equal(loadProfile('my-meter', [dir]).model, 'M1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('errors name the profile, the file and the problem', () => {
    const dir = tmp();
    try {
      fs.writeFileSync(path.join(dir, 'broken.json'), '{ "id": ');
      assert.throws(() => loadProfile('broken', [dir]), /profile "broken": .*broken\.json is not valid JSON/);
      fs.writeFileSync(path.join(dir, 'renamed.json'), JSON.stringify(minimal([{ obis: '1-0:1.8.0', name: 'I', register: 0, unit: 'Wh' }], { id: 'other' })));
      assert.throws(() => loadProfile('renamed', [dir]), /declares id "other"/);
      assert.throws(() => loadProfile('no-such-meter', [dir]), /unknown profile "no-such-meter" \(looked in /);
      assert.throws(() => loadProfile('../etc/passwd'), /invalid profile id/);
      // One broken file does not hide the others from the editor's list: it is listed with its error.
      const list = listProfiles([dir]);
      assert.match(list.find((p) => p.id === 'broken')!.error!, /not valid JSON/);
      assert.ok(list.find((p) => p.id === 'eastron-sdm630' && !p.error));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
