/** `ems-sim dlms` over real loopback TCP: the wrapper and HDLC over TCP, driven by a scripted client from the codec layers; each fault. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssociationError, type AssociationOptions } from '../../lib/protocols/dlms/association';
import { dateTimeFromEpochMs, dateTimeToEpochMs, type DlmsData } from '../../lib/protocols/dlms/axdr';
import { captureObjects, profileRows, rangeDescriptor, registerReading, scalerUnitOf } from '../../lib/protocols/dlms/cosem';
import { decodeFrame, encodeFrame, clientAddress, serverAddress, splitFrames } from '../../lib/protocols/dlms/hdlc';
import { dlmsCli, DlmsSimulator, type DlmsSimOptions } from '../../lib/sim/dlms';
import { UsageError } from '../../lib/sim/registry';
import { AK, CLIENT_TITLE, EK, ScriptedClient } from './dlms-server-client';
import { HdlcTestClient, tcpStream, wrapperClient } from './dlms-sim-transport';

const keys = { encryptionKey: EK, authenticationKey: AK };
const lls: AssociationOptions = { mechanism: 'low', password: Buffer.from('12345678') };
const hls: AssociationOptions = { mechanism: 'high-gmac', systemTitle: CLIENT_TITLE, keys };
const num = (d: DlmsData) => ('value' in d && typeof d.value === 'number' ? d.value : NaN);

const sims: DlmsSimulator[] = [];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.splice(0)) await c();
  for (const s of sims.splice(0)) await s.close();
});

function simulator(extra: Partial<DlmsSimOptions> = {}): DlmsSimulator {
  const s = new DlmsSimulator({ meterId: 'TCP0001', password: Buffer.from('12345678'), keys, systemTitle: Buffer.from('454D530000000002', 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60, ...extra });
  sims.push(s);
  return s;
}
async function wrapper(port: number, sap: number, waitMs?: number) {
  const w = await wrapperClient(port, sap, 1, waitMs);
  closers.push(w.close);
  return w;
}
async function hdlc(port: number, o: ConstructorParameters<typeof HdlcTestClient>[1] = {}) {
  const s = await tcpStream(port);
  closers.push(() => s.close());
  return new HdlcTestClient(s, o);
}

describe('ems-sim dlms over the TCP wrapper', () => {
  it('an LLS client reads energy and the profile of the last hour, which matches the register', async () => {
    const sim = simulator();
    const port = await sim.listenWrapper(0);
    const w = await wrapper(port, 0x20);
    const c = new ScriptedClient(w.send, lls);
    await c.associate();
    const before = Date.now();
    const r = registerReading('m', '1-0:1.8.0.255', await c.value(3, '1-0:1.8.0.255', 2), scalerUnitOf(await c.value(3, '1-0:1.8.0.255', 3)), before);
    assert.equal(r.unit, 'kWh');
    assert.ok(Math.abs(r.value - sim.meter.physics.importWh(before) / 1000) < 0.01, `${r.value} kWh`);
    const captures = captureObjects(await c.value(7, '1-0:99.1.0.255', 3));
    const rows = profileRows(await c.value(7, '1-0:99.1.0.255', 2, rangeDescriptor({ from: dateTimeFromEpochMs(before - 3600_000, 60), to: dateTimeFromEpochMs(before, 60) })), captures);
    assert.ok(rows.length >= 4 && rows.length <= 5, `${rows.length} rows`);
    const lastRow = rows[rows.length - 1];
    const at = dateTimeToEpochMs(lastRow.dateTime!) as number;
    assert.equal(num(lastRow.values[1].value), Math.floor(sim.meter.physics.importWh(at)));
  });
  it('a ciphered HLS-GMAC client reads through glo- APDUs; other wPorts get no answer', async () => {
    const sim = simulator();
    const port = await sim.listenWrapper(0);
    const c = new ScriptedClient((await wrapper(port, 0x30)).send, { ...hls, ciphered: true });
    await c.associate();
    const clock = await c.value(8, '0-0:1.0.0.255', 2);
    assert.ok(clock.type === 'octet-string' && clock.value.length === 12);
    const stray = await wrapperClient(port, 0x20, 5, 300);
    closers.push(stray.close);
    assert.equal(await stray.send(Buffer.from('601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0', 'hex')), undefined);
  });
  it('fault wrong-key: HLS fails at pass 3 and a ciphered LLS AARQ is refused', async () => {
    const sim = simulator({ faults: [{ kind: 'wrong-key' }] });
    const port = await sim.listenWrapper(0);
    await assert.rejects(new ScriptedClient((await wrapper(port, 0x30)).send, hls).associate(), (e: Error) => e instanceof AssociationError && /refused our f\(StoC\)/.test(e.message));
    await assert.rejects(new ScriptedClient((await wrapper(port, 0x20)).send, { ...lls, ciphered: true, systemTitle: CLIENT_TITLE, keys }).associate(), /authentication-failure/);
    // plain LLS does not use the keys
    await new ScriptedClient((await wrapper(port, 0x20)).send, lls).associate();
  });
  it('fault busy for a window: associations are refused as rejected-transient, then accepted', async () => {
    const start = Date.now();
    const sim = simulator({ faults: [{ kind: 'busy', window: { afterMs: 0, forMs: 1500 } }] });
    const port = await sim.listenWrapper(0);
    const w = await wrapper(port, 0x20);
    await assert.rejects(new ScriptedClient(w.send, lls).associate(), /rejected-transient/);
    await new Promise((r) => setTimeout(r, Math.max(0, start + 1700 - Date.now())));
    await new ScriptedClient(w.send, lls).associate();
  });
  it('fault offline: no answer during the window, the profile kept recording through it', async () => {
    const start = Date.now();
    const sim = simulator({ profilePeriodSeconds: 1, faults: [{ kind: 'offline', window: { afterMs: 0, forMs: 1500 } }] });
    const port = await sim.listenWrapper(0);
    const w = await wrapper(port, 0x20, 300);
    await assert.rejects(new ScriptedClient(w.send, lls).associate(), /no answer to AARQ/);
    await new Promise((r) => setTimeout(r, Math.max(0, start + 1700 - Date.now())));
    const c = new ScriptedClient(w.send, lls);
    await c.associate();
    const rows = profileRows(await c.value(7, '1-0:99.1.0.255', 2, rangeDescriptor({ from: dateTimeFromEpochMs(start, 60), to: dateTimeFromEpochMs(start + 1500, 60) })), captureObjects(await c.value(7, '1-0:99.1.0.255', 3)));
    assert.ok(rows.length >= 1, `${rows.length} rows recorded while offline`);
    for (const row of rows) assert.equal(num(row.values[1].value), Math.floor(sim.meter.physics.importWh(dateTimeToEpochMs(row.dateTime!) as number)));
  });
});

describe('ems-sim dlms over HDLC on TCP', () => {
  it('SNRM/UA negotiates the smaller information field; long answers and long requests go in segments', async () => {
    const sim = simulator({ maxInfo: 128 });
    const port = await sim.listenHdlc(0);
    const h = await hdlc(port, { proposed: { maxInfoTransmit: 48, maxInfoReceive: 64 } });
    const ev = await h.connect();
    assert.deepEqual(ev, { type: 'connected', parameters: { maxInfoTransmit: 48, maxInfoReceive: 64, windowTransmit: 1, windowReceive: 1 } });
    const c = new ScriptedClient(h.send, lls);
    await c.associate();
    const framesBefore = h.framesIn;
    const list = await c.value(15, '0-0:40.0.0.255', 2);
    assert.ok(list.type === 'array' && list.items.length >= 12);
    assert.ok(h.framesIn - framesBefore > 10, `object list came in ${h.framesIn - framesBefore} frames`);
    // a with-list request of 80+ bytes goes out in two segments of at most 48
    const a = await c.request({ type: 'get-request', form: 'with-list', invoke: { id: 1, confirmed: true, highPriority: true }, requests: ['1-0:1.8.0.255', '1-0:2.8.0.255', '1-0:1.7.0.255', '1-0:2.7.0.255', '1-0:32.7.0.255', '1-0:31.7.0.255'].map((obis) => ({ descriptor: { classId: 3, obis, attribute: 2 } })) });
    assert.ok(a.type === 'get-response' && a.form === 'with-list' && a.results.every((x) => 'data' in x));
    assert.equal((await h.disconnect())?.type, 'disconnected');
  });
  it('checks the server address and answers DM while disconnected', async () => {
    const sim = simulator();
    const port = await sim.listenHdlc(0);
    const other = new HdlcTestClient(await tcpStream(port), { server: serverAddress(1, 18) }, 150, 2);
    closers.push(() => other.stream.close());
    assert.equal(await other.connect(true), undefined);
    const four = await hdlc(port, { server: serverAddress(1, 17, 4) });
    assert.equal((await four.connect())?.type, 'connected');
    const s = await tcpStream(port);
    closers.push(() => s.close());
    const got = new Promise<Buffer>((resolve, reject) => { s.onData((d) => resolve(d)); setTimeout(() => reject(new Error('no answer to an I-frame sent before SNRM within 2 s')), 2000); });
    s.write(encodeFrame({ destination: serverAddress(1, 17), source: clientAddress(0x10), control: { kind: 'I', pf: true, ns: 0, nr: 0 }, segmented: false, info: Buffer.from([0xe6, 0xe6, 0x00, 0xc0]) }));
    assert.equal(decodeFrame(splitFrames(await got).frames[0]).control.kind, 'DM');
  });
  it('fault frame-errors: a share of frames has a bad FCS, the client repeats and still reads', async () => {
    const sim = simulator({ faults: [{ kind: 'frame-errors', share: 0.3 }] });
    const port = await sim.listenHdlc(0);
    const h = await hdlc(port, { proposed: { maxInfoReceive: 64 } });
    await h.connect();
    const c = new ScriptedClient(h.send, lls);
    await c.associate();
    assert.equal((await c.value(15, '0-0:40.0.0.255', 2)).type, 'array');
    assert.ok(num(await c.value(3, '1-0:1.8.0.255', 2)) > 0);
    assert.ok(h.badFrames >= 3, `${h.badFrames} damaged frames`);
  });
  it('fault busy: SNRM is answered with DM', async () => {
    const sim = simulator({ faults: [{ kind: 'busy' }] });
    const h = await hdlc(await sim.listenHdlc(0));
    assert.deepEqual(await h.connect(), { type: 'disconnected', reason: 'DM' });
  });
});

describe('ems-sim dlms command line', () => {
  it('parses options, names the bad one without echoing a key, and starts on free ports', async () => {
    assert.throws(() => dlmsCli.parse({ fault: ['melt'] }), (e: Error) => e instanceof UsageError && /--fault: "melt"/.test(e.message));
    assert.throws(() => dlmsCli.parse({ ek: 'secret-not-hex' }), (e: Error) => e instanceof UsageError && /--ek/.test(e.message) && !e.message.includes('secret-not-hex'));
    assert.throws(() => dlmsCli.parse({ 'system-title': '0102' }), /--system-title: "0102" is not 8 bytes of hex/);
    const o = dlmsCli.parse({ port: '0', 'hdlc-port': '0', 'meter-id': 'CLI0001', fault: ['frame-errors:0.1@5+10'] });
    assert.deepEqual(o.sim.faults, [{ kind: 'frame-errors', share: 0.1, window: { afterMs: 5000, forMs: 10_000 } }]);
    const running = await dlmsCli.start(o);
    closers.push(() => running.close());
    const line = running.describe();
    assert.match(line, /dlms meter CLI0001 \(server 1\/17, system title 454D53[0-9A-F]{10}\): wrapper on 127\.0\.0\.1:\d+, HDLC on 127\.0\.0\.1:\d+; faults frame-errors:0\.1 \(from 5 s for 10 s\)/);
    const port = Number(/wrapper on 127\.0\.0\.1:(\d+)/.exec(line)![1]);
    await new ScriptedClient((await wrapper(port, 0x10)).send, { mechanism: 'lowest' }).associate();
  });
});
