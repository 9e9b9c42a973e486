/** The DLMS server (pure, no I/O) against a scripted client built from the codec layers: associations at each level and each refusal, GET/SET/ACTION, blocks, the load profile, ciphering and counters. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssociationError, type AssociationOptions, buildAarq } from '../../lib/protocols/dlms/association';
import { dateTimeFromEpochMs, dateTimeToEpochMs, decodeDateTime, encodeDateTime, type DlmsData } from '../../lib/protocols/dlms/axdr';
import { captureObjects, profileRows, rangeDescriptor, registerReading, scalerUnitOf } from '../../lib/protocols/dlms/cosem';
import { decodeApdu } from '../../lib/protocols/dlms/apdu';
import { encodeRelease } from '../../lib/protocols/dlms/acse';
import { DEFAULT_INVOKE, encodeService } from '../../lib/protocols/dlms/xdlms';
import { DlmsServer } from '../../lib/protocols/dlms/server';
import { CosemMeter } from '../../lib/protocols/dlms/server-objects';
import { AK, CLIENT_TITLE, EK, ScriptedClient } from './dlms-server-client';

const SERVER_TITLE = Buffer.from('454D530000000001', 'hex');
const T0 = Date.UTC(2026, 11, 7, 10, 7, 30);
const keys = { encryptionKey: EK, authenticationKey: AK };

function setup(o: { now?: () => number; meterId?: string; keys?: typeof keys } = {}) {
  let now = T0;
  const meter = new CosemMeter({ meterId: o.meterId ?? 'SIM0001', now: o.now ?? (() => now), utcOffsetMinutes: 60 });
  const server = new DlmsServer({ meter, password: Buffer.from('12345678'), keys: o.keys ?? keys, systemTitle: SERVER_TITLE });
  const client = (sap: number, ao: AssociationOptions, counter = 1) => {
    const a = server.associate(sap);
    return new ScriptedClient(async (apdu) => a.handle(apdu), ao, counter);
  };
  return { meter, server, client, advance: (ms: number) => { now += ms; } };
}
const lls: AssociationOptions = { mechanism: 'low', password: Buffer.from('12345678') };
const hls: AssociationOptions = { mechanism: 'high-gmac', systemTitle: CLIENT_TITLE, keys };
const num = (d: DlmsData) => ('value' in d && typeof d.value === 'number' ? d.value : NaN);
const refusal = async (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: Error) => e instanceof AssociationError && re.test(e.message));

describe('DLMS server associations', () => {
  it('public client 0x10 (lowest) reads the clock and names, not the registers', async () => {
    const { client } = setup();
    const c = client(0x10, { mechanism: 'lowest' });
    const acc = await c.associate();
    assert.equal(acc.hlsPending, false);
    assert.ok(acc.maxPduSize >= 256);
    const ldn = await c.value(1, '0-0:42.0.0.255', 2);
    assert.equal(ldn.type === 'octet-string' && ldn.value.toString(), 'EMSSIM0001');
    assert.deepEqual(await c.get(3, '1-0:1.8.0.255', 2), { error: 3, blocks: 0 });
    assert.equal(await c.set(8, '0-0:1.0.0.255', 2, { type: 'octet-string', value: Buffer.alloc(12) }), 3);
  });
  it('LLS client 0x20 with the password reads energy in Wh with its scaler; the wrong password is refused', async () => {
    const { client, meter } = setup();
    const c = client(0x20, lls);
    await c.associate();
    const su = scalerUnitOf(await c.value(3, '1-0:1.8.0.255', 3));
    assert.deepEqual(su, { scaler: 0, unit: 30 });
    const r = registerReading('m', '1-0:1.8.0.255', await c.value(3, '1-0:1.8.0.255', 2), su, T0);
    assert.equal(r.unit, 'kWh');
    assert.equal(r.value, Math.floor(meter.physics.importWh(T0)) / 1000);
    const v = registerReading('m', '1-0:32.7.0.255', await c.value(3, '1-0:32.7.0.255', 2), scalerUnitOf(await c.value(3, '1-0:32.7.0.255', 3)), T0);
    assert.equal(v.unit, 'V');
    assert.ok(v.value > 224 && v.value < 236, `voltage ${v.value}`);
    await refusal(client(0x20, { ...lls, password: Buffer.from('00000000') }).associate(), /authentication-failure/);
  });
  it('refuses an unknown SAP, a mechanism the SAP does not use and a short-name context, naming the diagnostic', async () => {
    const { client } = setup();
    await refusal(client(0x40, lls).associate(), /rejected-permanent: no-reason-given/);
    await refusal(client(0x30, { mechanism: 'lowest' }).associate(), /authentication-mechanism-name-required/);
    await refusal(client(0x20, hls).associate(), /authentication-mechanism-name-not-recognised/);
  });
  it('HLS-GMAC client 0x30 passes 3 and 4 and may then shift the clock; a wrong key fails pass 3', async () => {
    const { client, meter } = setup();
    const c = client(0x30, hls);
    const acc = await c.associate();
    assert.deepEqual(acc.serverSystemTitle, SERVER_TITLE);
    assert.equal(await c.action(8, '0-0:1.0.0.255', 6, { type: 'long', value: 30 }), 0);
    assert.equal(meter.clockOffsetMs(), 30_000);
    const bad = client(0x30, { ...hls, keys: { encryptionKey: Buffer.alloc(16, 7), authenticationKey: AK } }, 100);
    await refusal(bad.associate(), /refused our f\(StoC\)/);
  });
  it('a client that skips pass 3 reads nothing', async () => {
    const { server } = setup();
    const a2 = server.associate(0x30);
    a2.handle(buildAarq(hls).aarq);
    const r = decodeApdu(a2.handle(encodeService({ type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 3, obis: '1-0:1.8.0.255', attribute: 2 } } })) as Buffer);
    assert.deepEqual(r.type === 'get-response' && r.form === 'normal' && r.result, { error: 3 });
  });
  it('a request longer than the server\'s max receive PDU gets an ExceptionResponse pdu-too-long', async () => {
    const { client } = setup();
    const c = client(0x20, lls);
    const acc = await c.associate();
    assert.equal(acc.maxPduSize, 1024);
    const long = await c.request({ type: 'set-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 8, obis: '0-0:1.0.0.255', attribute: 2 } }, value: { type: 'octet-string', value: Buffer.alloc(1100) } });
    assert.deepEqual(long, { type: 'exception-response', stateError: 1, serviceError: 4 });
  });
  it('busy: associations are refused as rejected-transient', async () => {
    const { server, client } = setup();
    server.busy = true;
    await refusal(client(0x20, lls).associate(), /rejected-transient/);
  });
  it('RLRQ is answered with RLRE and ends the association', async () => {
    const { server } = setup();
    const a = server.associate(0x20);
    const c = new ScriptedClient(async (x) => a.handle(x), lls);
    await c.associate();
    const rlre = decodeApdu(a.handle(encodeRelease('rlrq', 0)) as Buffer);
    assert.equal(rlre.type, 'rlre');
    const after = decodeApdu(a.handle(encodeService({ type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 1, obis: '0-0:42.0.0.255', attribute: 2 } } })) as Buffer);
    assert.equal(after.type, 'exception-response');
  });
});

describe('DLMS server ciphering', () => {
  it('a ciphered HLS association reads through glo- APDUs; a replayed counter is refused; the server counter rises', async () => {
    const { server, client } = setup();
    const c = client(0x30, { ...hls, ciphered: true }, 1000);
    await c.associate();
    const ic0 = server.invocationCounter;
    assert.ok((await c.value(3, '1-0:2.8.0.255', 2)).type === 'double-long-unsigned');
    assert.equal(server.invocationCounter, ic0 + 1);
    const replay = await c.request({ type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 8, obis: '0-0:1.0.0.255', attribute: 2 } } }, c.ic - 1);
    assert.deepEqual(replay, { type: 'exception-response', stateError: 1, serviceError: 6 });
    // the same counter in a new association is refused at the AARQ already
    await refusal(client(0x30, { ...hls, ciphered: true }, 1000).associate(), /authentication-failure/);
  });
  it('the server holding another key refuses the ciphered AARQ with authentication-failure', async () => {
    const { client } = setup({ keys: { encryptionKey: Buffer.alloc(16, 1), authenticationKey: AK } });
    await refusal(client(0x20, { ...lls, ciphered: true, systemTitle: CLIENT_TITLE, keys }).associate(), /authentication-failure/);
  });
});

describe('DLMS server objects', () => {
  it('GET of a long answer goes in blocks within the negotiated PDU size and joins to the whole buffer', async () => {
    const { client } = setup();
    const c = client(0x20, { ...lls, maxReceivePduSize: 256 });
    await c.associate();
    const inUse = num(await c.value(7, '1-0:99.1.0.255', 7));
    assert.equal(inUse, 2880);
    const r = await c.get(7, '1-0:99.1.0.255', 2);
    assert.ok('data' in r && r.data.type === 'array');
    assert.equal((r.data as { items: unknown[] }).items.length, 2880);
    assert.ok(r.blocks > 100, `${r.blocks} blocks`);
  });
  it('get-next out of turn is refused: a wrong block number aborts the long GET, none in progress says so', async () => {
    const { client } = setup();
    const c = client(0x20, { ...lls, maxReceivePduSize: 256 });
    await c.associate();
    const first = await c.request({ type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 7, obis: '1-0:99.1.0.255', attribute: 2 } } });
    assert.ok(first.type === 'get-response' && first.form === 'with-datablock' && first.block.number === 1 && !first.block.last);
    const wrong = await c.request({ type: 'get-request', form: 'next', invoke: DEFAULT_INVOKE, blockNumber: 5 });
    assert.ok(wrong.type === 'get-response' && wrong.form === 'with-datablock' && wrong.block.error === 19 && wrong.block.last);
    const none = await c.request({ type: 'get-request', form: 'next', invoke: DEFAULT_INVOKE, blockNumber: 1 });
    assert.ok(none.type === 'get-response' && none.form === 'with-datablock' && none.block.error === 16);
  });
  it('the load profile over a past range equals the registers read at those instants (an offline client backfills)', async () => {
    const { client } = setup();
    const c = client(0x20, lls);
    await c.associate();
    const captures = captureObjects(await c.value(7, '1-0:99.1.0.255', 3));
    assert.deepEqual(captures.map((x) => x.obis), ['0-0:1.0.0.255', '1-0:1.8.0.255', '1-0:2.8.0.255']);
    assert.equal(num(await c.value(7, '1-0:99.1.0.255', 4)), 900);
    const from = T0 - 3 * 3600_000, to = T0 - 3600_000;
    const rows = profileRows(await c.value(7, '1-0:99.1.0.255', 2, rangeDescriptor({ from: dateTimeFromEpochMs(from, 60), to: dateTimeFromEpochMs(to, 60) })), captures);
    assert.equal(rows.length, 8);
    for (const row of rows) {
      const at = dateTimeToEpochMs(row.dateTime!) as number;
      assert.equal(at % 900_000, 0);
      assert.ok(at >= from && at <= to);
      assert.equal(row.dateTime!.deviation, -60);
      // a meter read at that instant
      const then = setup({ now: () => at }).client(0x20, lls);
      await then.associate();
      assert.deepEqual(row.values[1].value, await then.value(3, '1-0:1.8.0.255', 2));
      assert.deepEqual(row.values[2].value, await then.value(3, '1-0:2.8.0.255', 2));
    }
    assert.ok(num(rows[7].values[1].value) > num(rows[0].values[1].value));
    // columns: only the clock and the export register
    const some = await c.value(7, '1-0:99.1.0.255', 2, rangeDescriptor({ from: dateTimeFromEpochMs(from, 60), to: dateTimeFromEpochMs(to, 60), columns: [captures[0], captures[2]] }));
    assert.equal(some.type === 'array' && (some.items[0] as { items: unknown[] }).items.length, 2);
    // access selector 2: entries 1..2 (the oldest), columns 1..2
    const u32 = (value: number): DlmsData => ({ type: 'double-long-unsigned', value });
    const u16 = (value: number): DlmsData => ({ type: 'long-unsigned', value });
    const oldest = await c.value(7, '1-0:99.1.0.255', 2, { selector: 2, parameters: { type: 'structure', items: [u32(1), u32(2), u16(1), u16(2)] } });
    const oldRows = profileRows(oldest, captures.slice(0, 2));
    assert.equal(oldRows.length, 2);
    assert.equal(dateTimeToEpochMs(oldRows[0].dateTime!), Math.floor(T0 / 900_000) * 900_000 - 2879 * 900_000);
    assert.deepEqual((await c.get(7, '1-0:99.1.0.255', 2, { selector: 3, parameters: { type: 'structure', items: [] } })), { error: 250, blocks: 0 });
  });
  it('SET clock with LLS moves the meter time; the deviation and status are there', async () => {
    const { client, advance } = setup();
    const c = client(0x20, lls);
    await c.associate();
    const target = Date.UTC(2026, 11, 7, 12, 0, 0);
    assert.equal(await c.set(8, '0-0:1.0.0.255', 2, { type: 'octet-string', value: encodeDateTime(dateTimeFromEpochMs(target, 60)) }), 0);
    advance(5000);
    const clock = await c.value(8, '0-0:1.0.0.255', 2);
    const dt = decodeDateTime((clock as { value: Buffer }).value);
    assert.equal(dateTimeToEpochMs(dt), target + 5000);
    assert.deepEqual([dt.deviation, dt.clockStatus, dt.hour], [-60, 0, 13]);
    assert.equal(num(await c.value(8, '0-0:1.0.0.255', 3)), -60);
  });
  it('the object list names every object with access rights of the asking client; GET with-list answers each', async () => {
    const { client } = setup();
    const pub = client(0x10, { mechanism: 'lowest' });
    await pub.associate();
    const list = await pub.value(15, '0-0:40.0.0.255', 2);
    assert.equal(list.type, 'array');
    const entries = (list as { items: { items: DlmsData[] }[] }).items.map((e) => [num(e.items[0]), (e.items[2] as { value: Buffer }).value.join('.')]);
    for (const want of [[8, '0.0.1.0.0.255'], [3, '1.0.1.8.0.255'], [4, '1.0.1.6.0.255'], [5, '1.0.1.4.0.255'], [7, '1.0.99.1.0.255'], [15, '0.0.40.0.0.255'], [1, '0.0.42.0.0.255']]) {
      assert.ok(entries.some((e) => e[0] === want[0] && e[1] === want[1]), `object list has ${want}`);
    }
    const c = client(0x20, lls);
    await c.associate();
    const a = await c.request({ type: 'get-request', form: 'with-list', invoke: DEFAULT_INVOKE, requests: [
      { descriptor: { classId: 4, obis: '1-0:1.6.0.255', attribute: 5 } }, { descriptor: { classId: 5, obis: '1-0:1.4.0.255', attribute: 3 } }, { descriptor: { classId: 3, obis: '9-9:9.9.9.255', attribute: 2 } },
    ] });
    assert.ok(a.type === 'get-response' && a.form === 'with-list');
    const [capture, lastAverage, missing] = a.results;
    assert.ok('data' in capture && capture.data.type === 'octet-string' && capture.data.value.length === 12);
    assert.ok('data' in lastAverage && num(lastAverage.data) > 0);
    assert.deepEqual(missing, { error: 4 });
  });
});
