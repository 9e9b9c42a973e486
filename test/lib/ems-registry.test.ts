import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { openEmsDb } from '../../lib/ems/db';
import { Registry, type TreeNode } from '../../lib/ems/registry';
import { checkMeterDefinition } from '../../lib/ems/meter-definition';
import { ApiError } from '../../lib/ems/envelope';

function throwsApi(fn: () => unknown, status: number, text: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ApiError && err.status === status && text.test(err.message));
}

const sdm = { name: 'Main incomer', protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1', interval_time: '10' };

describe('meter definitions', () => {
  it('reads the dictionary\'s string fields as numbers and lists, with defaults', () => {
    const d = checkMeterDefinition({ ...sdm, days_of_week: '5,1,1,3', days_of_month: '', waiting_time: 1500, password: 'p1' });
    assert.equal(d.port, 5020);
    assert.equal(d.interval_time, 10);
    assert.deepEqual(d.days_of_week, [1, 3, 5]);
    assert.deepEqual(d.days_of_month, []);
    assert.equal(d.pause_time, 0);
    assert.equal(d.periodType, 'interval');
  });

  it('names the field and the value it refuses', () => {
    throwsApi(() => checkMeterDefinition({ ...sdm, port: '70000' }), 400, /^port "70000" must be a whole number from 0 to 65535/);
    throwsApi(() => checkMeterDefinition({ ...sdm, interval_time: 'often' }), 400, /^interval_time "often"/);
    throwsApi(() => checkMeterDefinition({ ...sdm, days_of_week: '1,8' }), 400, /^days_of_week "1,8" must list days from 1 to 7 \(got "8"\)/);
    throwsApi(() => checkMeterDefinition({ ...sdm, protocol: 'bacnet' }), 400, /^protocol "bacnet" must be one of modbus-tcp/);
    throwsApi(() => checkMeterDefinition({ ...sdm, connection_address: '300' }), 400, /Modbus unit id from 0 to 247/);
    throwsApi(() => checkMeterDefinition({ ...sdm, profile: '' }), 400, /profile is required for Modbus meters/);
    throwsApi(() => checkMeterDefinition({ ...sdm, intervall: 5 }), 400, /unknown field "intervall"/);
    throwsApi(() => checkMeterDefinition({ protocol: 'mbus' }), 400, /name is required/);
    throwsApi(() => checkMeterDefinition({ name: 'heat', protocol: 'mbus', connection_address: 'x1' }), 400, /M-Bus primary address/);
  });

  it('a serial Modbus RTU meter names its tty and line settings; port 0; bad lines and paths are refused', () => {
    const rtu = { ...sdm, protocol: 'modbus-rtu', ip_address: '/dev/ttyUSB0', port: undefined };
    const d = checkMeterDefinition({ ...rtu, serial_line: '19200 8E1' });
    assert.deepEqual([d.ip_address, d.port, d.serial_line], ['/dev/ttyUSB0', 0, '19200 8E1']);
    assert.equal(checkMeterDefinition({ ...rtu, ip_address: '/dev/serial/by-id/usb-FTDI_FT232R-if00-port0' }).serial_line, '');
    throwsApi(() => checkMeterDefinition({ ...rtu, ip_address: '/dev/sda' }), 400, /^ip_address "\/dev\/sda" must be the serial device of the RTU bus/);
    throwsApi(() => checkMeterDefinition({ ...rtu, ip_address: '192.168.1.20' }), 400, /a converter on the network is modbus-rtu-over-tcp/);
    throwsApi(() => checkMeterDefinition({ ...rtu, serial_line: '9601 8N1' }), 400, /^serial_line "9601 8N1" must be .* with a baud rate of 300, 600/);
    throwsApi(() => checkMeterDefinition({ ...sdm, serial_line: '9600 8N1' }), 400, /^serial_line "9600 8N1" applies to a serial device path only/);
  });

  it('a new P1 or SML meter waits for a whole telegram period unless it says otherwise; an update keeps its wait', () => {
    const p1 = checkMeterDefinition({ name: 'P1', protocol: 'p1', ip_address: '10.0.0.9' });
    const sml = checkMeterDefinition({ name: 'eHZ', protocol: 'sml', ip_address: '10.0.0.9' });
    assert.deepEqual([p1.port, p1.waiting_time, sml.port, sml.waiting_time], [2001, 11_000, 7259, 5_000]);
    assert.equal(checkMeterDefinition({ name: 'P1', protocol: 'p1', ip_address: '10.0.0.9', waiting_time: 2500 }).waiting_time, 2500);
    assert.equal(checkMeterDefinition({ name: 'SDM', protocol: 'modbus-tcp', ip_address: '10.0.0.9', profile: 'eastron-sdm630' }).waiting_time, 1000);
    assert.equal(checkMeterDefinition({ interval_time: 30 }, { ...p1, waiting_time: 3000 }).waiting_time, 3000);
  });
});

describe('folder tree and meters', () => {
  let reg: Registry;
  let changes: string[];
  beforeEach(() => {
    changes = [];
    reg = new Registry(openEmsDb(':memory:'), { onChange: (c) => changes.push(`${c.action} ${c.kind} ${c.name}`) });
  });

  function names(nodes: TreeNode[]): unknown[] {
    return nodes.map((n) => (n.child_folders.length ? [n.name, names(n.child_folders)] : n.name));
  }

  it('builds a tree of folders with meters as leaves, password never shown', () => {
    const site = reg.createFolder({ name: 'Plant', folder_type: 'site' });
    const hall = reg.createFolder({ name: 'Hall A', parent_id: site._id });
    reg.createFolder({ name: 'Office', parent_id: site._id });
    const m = reg.createMeter({ ...sdm, folder_id: hall._id, password: 'secret' });
    assert.equal(m._id, 'main-incomer');
    assert.equal(reg.createMeter({ ...sdm, folder_id: hall._id })._id, 'main-incomer-2');
    const tree = reg.tree();
    assert.deepEqual(names(tree), [['Plant', [['Hall A', ['Main incomer', 'Main incomer']], 'Office']]]);
    const leaf = tree[0].child_folders[0].child_folders[0];
    assert.equal(leaf.folder_type, 'meter');
    assert.equal(leaf.meter, 'main-incomer');
    assert.equal(leaf.meter_detail?.password_set, true);
    assert.equal(JSON.stringify(tree).includes('secret'), false);
    assert.deepEqual(changes.slice(0, 2), ['create folder Plant', 'create folder Hall A']);
  });

  it('limits a user with open_folders to those folders, their meters and the path to them', () => {
    const plant = reg.createFolder({ name: 'Plant' });
    const a = reg.createFolder({ name: 'A', parent_id: plant._id });
    const a1 = reg.createFolder({ name: 'A1', parent_id: a._id });
    const b = reg.createFolder({ name: 'B', parent_id: plant._id });
    reg.createMeter({ ...sdm, name: 'in A1', folder_id: a1._id });
    reg.createMeter({ ...sdm, name: 'in B', folder_id: b._id });
    reg.createMeter({ ...sdm, name: 'in Plant', folder_id: plant._id });
    const scope = reg.scopeOf([a._id]);
    assert.deepEqual(names(reg.tree(scope)), [['Plant', [['A', [['A1', ['in A1']]]]]]]);
    assert.deepEqual(reg.meters(scope).map((m) => m._id), ['in-a1']);
    throwsApi(() => reg.meter('in-b', scope), 404, /unknown meter "in-b"/);
    throwsApi(() => reg.createMeter({ ...sdm, folder_id: b._id }, scope), 404, /unknown folder/);
    throwsApi(() => reg.createFolder({ name: 'top' }, scope), 403, /top-level/);
    assert.equal(reg.meters().length, 3);
  });

  it('updates and deletes, refusing cycles, non-empty folders and unknown ids without changing anything', () => {
    const p = reg.createFolder({ name: 'P' });
    const c = reg.createFolder({ name: 'C', parent_id: p._id });
    throwsApi(() => reg.updateFolder(p._id, { parent_id: c._id }), 400, /inside itself/);
    const m = reg.createMeter({ ...sdm, folder_id: c._id });
    throwsApi(() => reg.deleteFolder(c._id), 409, /still holds 0 folder\(s\) and 1 meter\(s\)/);
    const u = reg.updateMeter(m._id, { interval_time: '30', folder_id: p._id });
    assert.equal(u.definition.interval_time, 30);
    assert.equal(u.definition.profile, 'eastron-sdm630');
    assert.equal(u.folder_id, p._id);
    throwsApi(() => reg.updateMeter(m._id, { port: -1 }), 400, /^port -1/);
    assert.equal(reg.meter(m._id).definition.port, 5020);
    reg.deleteFolder(c._id);
    reg.deleteMeter(m._id);
    throwsApi(() => reg.deleteMeter(m._id), 404, /unknown meter/);
    assert.equal(reg.meterCount(), 0);
  });

  it('asks the license hook before creating a meter', () => {
    const limited = new Registry(openEmsDb(':memory:'), { beforeCreateMeter: (n) => { if (n > 1) throw new ApiError(403, `meter_limit 1 reached`); } });
    const f = limited.createFolder({ name: 'F' });
    limited.createMeter({ ...sdm, folder_id: f._id });
    throwsApi(() => limited.createMeter({ ...sdm, folder_id: f._id }), 403, /meter_limit 1 reached/);
    assert.equal(limited.meterCount(), 1);
  });
});
