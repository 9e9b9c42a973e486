// Protocol dlms in the EMS meter definition: server address, security level with its secrets (sealed at rest,
// never returned), the OBIS list, and fields of other protocols refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkMeterDefinition, publicDefinition } from '../../lib/ems/meter-definition';
import { openEmsDb } from '../../lib/ems/db';
import { Registry } from '../../lib/ems/registry';
import { parseObisList, meterTarget, counterFile } from '../../lib/protocols/dlms/meter';

const EK = '000102030405060708090A0B0C0D0E0F';
const AK = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
const refused = (body: Record<string, unknown>, re: RegExp) => assert.throws(() => checkMeterDefinition({ name: 'm', protocol: 'dlms', ...body }), (e: Error) => re.test(e.message) && !e.message.includes(EK) && !e.message.includes(AK));

describe('meter definition, protocol dlms', () => {
  it('defaults: wrapper port 4059, server address 1, lowest security, no keys shown', () => {
    const d = checkMeterDefinition({ name: 'grid', protocol: 'dlms' });
    assert.equal(d.port, 4059);
    assert.equal(d.connection_address, '1');
    assert.equal(d.security_level, 'lowest');
    assert.equal(d.client_sap, 0);
    const shown = publicDefinition(d) as Record<string, unknown>;
    assert.equal(shown.encryption_key, undefined);
    assert.equal(shown.encryption_key_set, false);
  });

  it('HLS-GMAC keeps the keys (upper-case hex) and shows only that they are set', () => {
    const d = checkMeterDefinition({ name: 'grid', protocol: 'dlms', security_level: 'hls-gmac', encryption_key: EK.toLowerCase(), authentication_key: AK, connection_address: '1/17', client_sap: '48' });
    assert.equal(d.encryption_key, EK);
    assert.equal(d.client_sap, 48);
    const shown = JSON.stringify(publicDefinition(d));
    assert.ok(!shown.includes(EK) && !shown.includes(AK), shown);
    assert.match(shown, /"encryption_key_set":true,"authentication_key_set":true/);
  });

  it('refuses what cannot work, naming the field (and never a key)', () => {
    refused({ connection_address: 'meter-1' }, /connection_address "meter-1" must be a logical device address/);
    refused({ connection_address: '1', ip_address: '/dev/ttyUSB0', port: 0 }, /connection_address "1" must be logical\/physical/);
    refused({ security_level: 'high' }, /security_level "high" must be one of lowest, lls, hls-gmac/);
    refused({ security_level: 'lls' }, /password is required for a dlms meter with security_level "lls"/);
    refused({ security_level: 'hls-gmac', encryption_key: EK }, /authentication_key is required/);
    refused({ security_level: 'hls-gmac', encryption_key: EK.slice(2), authentication_key: AK }, /encryption_key "\(hidden\)" must be 32 hex digits/);
    refused({ profile: '1-0:1.8.0, 1.8.0' }, /profile "1-0:1.8.0, 1.8.0" must be empty, "discover" or a list of OBIS codes: OBIS code "1.8.0"/);
    refused({ client_sap: 200 }, /client_sap 200 must be a whole number from 0 to 127/);
  });

  it('dlms fields belong to dlms meters only, and are not shown for others', () => {
    assert.throws(() => checkMeterDefinition({ name: 'm', protocol: 'iec62056-21', security_level: 'lls' }), /security_level "lls" applies to dlms meters only \(protocol is iec62056-21\)/);
    assert.throws(() => checkMeterDefinition({ name: 'm', protocol: 'mbus', encryption_key: EK }), (e: Error) => /encryption_key "\(hidden\)" applies to dlms meters only/.test(e.message) && !e.message.includes(EK));
    const shown = publicDefinition(checkMeterDefinition({ name: 'm', protocol: 'mbus' })) as Record<string, unknown>;
    assert.deepEqual(['client_sap', 'security_level', 'encryption_key_set'].filter((k) => k in shown), []);
    // a meter switched from dlms to another protocol drops its dlms settings
    const was = checkMeterDefinition({ name: 'm', protocol: 'dlms', security_level: 'hls-gmac', encryption_key: EK, authentication_key: AK });
    const now = checkMeterDefinition({ protocol: 'iec62056-21', connection_address: '' }, was);
    assert.equal(now.encryption_key, '');
    assert.equal(now.security_level, '');
  });

  it('OBIS lists: class prefixes, F = 255 added, discover, bounds', () => {
    assert.deepEqual(parseObisList('1-0:1.8.0, 4:1-0:1.6.0;5:1-0:1.4.0.255'), [
      { obis: '1-0:1.8.0.255', classId: 3 }, { obis: '1-0:1.6.0.255', classId: 4 }, { obis: '1-0:1.4.0.255', classId: 5 },
    ]);
    assert.equal(parseObisList(' Discover '), 'discover');
    assert.equal((parseObisList('') as unknown[]).length, 6);
    assert.throws(() => parseObisList('1-0:1.8.256'), /OBIS code "1-0:1.8.256"/);
  });

  it('a target: SAP by level, HDLC when a physical address is given, one counter file per title and meter', () => {
    const t = meterTarget({ host: '10.0.0.7', port: 4059, serverAddress: '1/17', security: 'lls', password: 'pw' });
    assert.deepEqual([t.transport, t.logical, t.physical, t.client], ['hdlc', 1, 17, 0x20]);
    assert.throws(() => meterTarget({ host: '10.0.0.7', serverAddress: '1', security: 'hls-gmac', encryptionKey: 'zz', authenticationKey: AK, systemTitle: Buffer.alloc(8) }), (e: Error) => /encryption key must be 32 hex digits/.test(e.message));
    const title = Buffer.from('454D530102030405', 'hex');
    const a = counterFile('/x', { ...t }, title);
    assert.match(a, /^\/x\/454d530102030405-[0-9a-f]{16}\.json$/);
    assert.notEqual(a, counterFile('/x', { ...t, port: 4060 }, title));
    assert.notEqual(a, counterFile('/x', t, Buffer.from('454D530102030406', 'hex')));
  });

  it('the registry seals the keys at rest, opens them for the poll, and the tree never shows them', () => {
    const db = openEmsDb(':memory:');
    const reg = new Registry(db, {});
    const folder = reg.createFolder({ name: 'Grid' });
    reg.createMeter({ name: 'grid', folder_id: folder._id, protocol: 'dlms', security_level: 'hls-gmac', encryption_key: EK, authentication_key: AK }, undefined, 'grid-1');
    const raw = (db.prepare('SELECT definition FROM meters').get() as { definition: string }).definition;
    assert.ok(!raw.includes(EK) && !raw.includes(AK), raw);
    const record = reg.meters().find((m) => m._id === 'grid-1')!;
    assert.equal(record.definition.encryption_key, EK);
    assert.equal(record.definition.authentication_key, AK);
    const tree = JSON.stringify(reg.tree());
    assert.ok(!tree.includes(EK) && !tree.includes(AK));
    assert.match(tree, /"encryption_key_set":true/);
  });
});
