import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { G13Simulator } from '../../lib/sim/g13';
import { G13Client, G13Error, readMeterValues, readTariffEnergies, readLoadProfile, executeRead, type G13ClientOptions } from '../../lib/clients/g13';

const USERS = [
  { name: 'admin', password: 'secret1', admin: true },
  { name: 'viewer', password: 'view1', admin: false, access: { ABB_8: 'view' as const } },
];

async function rejects(p: Promise<unknown>, kind: string, re?: RegExp): Promise<G13Error> {
  try { await p; } catch (e) {
    assert.ok(e instanceof G13Error, `expected a G13Error, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    if (re) assert.match(e.message, re);
    return e;
  }
  throw new Error(`expected a ${kind} error`);
}

describe('G13 client against the simulated gateway (HTTPS, self-signed)', () => {
  let sim: G13Simulator;
  let opts: G13ClientOptions;
  let admin: G13Client;
  before(async () => {
    sim = new G13Simulator({ users: USERS, scanMs: 200 });
    await sim.listen(0, '127.0.0.1');
    opts = { url: sim.url, user: 'admin', password: 'secret1', tls: 'fingerprint', fingerprint: sim.fingerprint256!, scanPollMs: 50 };
    admin = new G13Client(opts);
  });
  after(async () => { await sim?.close(); });

  it('trusts the self-signed certificate by its SHA-256 fingerprint and refuses any other', async () => {
    const about = (await admin.about()) as Record<string, unknown>;
    assert.equal(about.jsonapiversion, '0.9');
    const wrong = new G13Client({ ...opts, fingerprint: 'AB'.repeat(32) });
    const e = await rejects(wrong.about(), 'tls', /does not match the trusted ABAB/);
    assert.match(e.message, new RegExp(`G13 ${sim.url.replace(/[.]/g, '\\.')}`));
    await rejects(new G13Client({ ...opts, tls: 'verify' }).about(), 'tls', /self.signed|certificate/i);
  });

  it('names gateway, meter and resource for 401, 403, an offline meter and an offline gateway', async () => {
    await rejects(new G13Client({ ...opts, password: 'wrong' }).about(), 'auth', /GET \/about: 401 wrong user name or password/);
    const viewer = new G13Client({ ...opts, user: 'viewer', password: 'view1' });
    assert.ok(((await viewer.instrument('ABB_8')) as Record<string, unknown>).l1);
    const denied = await rejects(viewer.instrument('ABB_9'), 'forbidden', /meter ABB_9: GET \/meters\/ABB_9\/instrument: 403 no access to meter ABB_9/);
    assert.equal(denied.meter, 'ABB_9');
    await rejects(viewer.setGatewayTime(), 'forbidden', /POST \/gateway\/datetime: 403/);
    sim.gateway.meter('ABB_9')!.spec.offline = true;
    try {
      await rejects(admin.energy('ABB_9'), 'cosem', /meter ABB_9: GET \/meters\/ABB_9\/energy\/active: 500 received invalid response from COSEM\./);
    } finally { sim.gateway.meter('ABB_9')!.spec.offline = false; }
    sim.setOffline(true);
    try {
      await rejects(new G13Client({ ...opts, timeout: 2000 }).about(), 'offline', /gateway unreachable/);
    } finally { sim.setOffline(false); }
  });

  it('recovers the error detail from /lasterror/<id> after a 200 whose body broke off', async () => {
    (sim.gateway as unknown as { truncateNext: number }).truncateNext = 1;
    const e = await rejects(admin.instrument('ABB_8'), 'truncated', /body broke off after a 200.*\/lasterror\/\d+: /);
    assert.doesNotMatch(e.des, /no detail from the gateway/);
    assert.ok(((await admin.instrument('ABB_8')) as Record<string, unknown>).l1, 'the next request works');
  });

  it('reads a meter into Readings that add up (tariffs sum to the total, P = sum of lines)', async () => {
    const { readings } = await readMeterValues(admin, 'ABB_8', 'ems-1');
    const r = new Map(readings.map((x) => [x.obis, x]));
    const total = r.get('1-0:1.8.0')!;
    assert.equal(total.unit, 'kWh');
    assert.equal(total.meter, 'ems-1');
    assert.ok(total.value >= 12345.67 && total.value < 12400, `import total ${total.value}`);
    const tariffs = [1, 2, 3, 4].map((t) => r.get(`1-0:1.8.${t}`)?.value ?? 0).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(tariffs - total.value) <= 0.05, `T1-T4 ${tariffs} vs total ${total.value}`);
    const p = r.get('1-0:1.7.0')!;
    assert.equal(p.unit, 'kW');
    const lines = ['21', '41', '61'].map((c) => r.get(`1-0:${c}.7.0`)!.value).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(lines - p.value) < 0.01, `lines ${lines} vs total ${p.value}`);
    assert.ok(r.get('1-0:32.7.0')!.value > 200 && r.get('1-0:32.7.0')!.unit === 'V');
    assert.ok(r.get('1-0:14.7.0')!.value > 49 && r.get('1-0:14.7.0')!.value < 51);
    const tar = await readTariffEnergies(admin, 'ABB_8');
    assert.ok(tar.readings.some((x) => x.obis === '1-0:1.8.2'));
    assert.ok(tar.readings.every((x) => /^1-0:[12]\.8\.[0-4]$/.test(x.obis)));
  });

  it('reads a load profile between dates as Readings with quality flags', async () => {
    const to = Date.now();
    const r = await readLoadProfile(admin, 'ABB_8', 1, to - 6 * 3600_000, to);
    assert.ok(r.readings.length > 0, JSON.stringify(r.raw).slice(0, 300));
    assert.ok(r.readings.every((x) => x.time >= to - 6 * 3600_000 - 3600_000 && x.time <= to + 3600_000));
    for (let i = 1; i < r.readings.length; i++) assert.ok(r.readings[i].time > r.readings[i - 1].time);
  });

  it('executes one OBIS read across several meters', async () => {
    const r = await executeRead(admin, ['ABB_8', 'ABB_9'], '1-0:32.7.0');
    assert.deepEqual(r.readings.map((x) => [x.meter, x.obis, x.unit]), [['ABB_8', '1-0:32.7.0', 'V'], ['ABB_9', '1-0:32.7.0', 'V']]);
    await rejects(admin.execute(['a', 'b', 'c', 'd', 'e', 'f'], [1, 0, 32, 7, 0, 255]), 'invalid', /1 to 5 meter serials/);
  });

  it('lists, scans and registers meters, and sets the gateway clock', async () => {
    const before = (await admin.meters()).meters.map((m) => m.serial).sort();
    assert.deepEqual(before, ['ABB_8', 'ABB_9', 'WTR_1']);
    const scan = await admin.scan({ eqbus: { start: 17, end: 20 } }, 10_000);
    assert.ok(scan.results.some((m) => m.serial === 'ABB_3' && m.protocol === 3), JSON.stringify(scan.raw));
    await admin.addMeter('ABB_3', 'ABB_3', 'Level2');
    assert.ok((await admin.meters()).meters.some((m) => m.serial === 'ABB_3'));
    await admin.removeMeter('ABB_3', 'ABB_3', 'Level2');
    assert.ok(!(await admin.meters()).meters.some((m) => m.serial === 'ABB_3'));
    await admin.setGatewayTime('2024-03-01T12:00:00');
    const t = await admin.gatewayTime();
    assert.equal(t.set, true);
    assert.match(t.datetime, /^2024-03-01T12:00:0\d$/);
  });

  it('reaches every documented GET resource', async () => {
    const m = 'ABB_8';
    const calls: [string, () => Promise<unknown>][] = [
      ['about', () => admin.about()], ['configuration', () => admin.configuration()], ['gateway', () => admin.gateway()],
      ['events', () => admin.gatewayEvents()], ['users', () => admin.users()], ['bindings', () => admin.bindings('viewer')],
      ['firmwareStatus', () => admin.firmwareStatus()], ['parameterMapping', () => admin.parameterMapping()],
      ['storable', () => admin.storableQuantities()], ['association', () => admin.associationObjects(m)], ['scanned', () => admin.scanned()],
      ['permitted', () => admin.permittedMeters()], ['meterTime', () => admin.meterTime(m)], ['info', () => admin.info(m)],
      ['conversion', () => admin.conversionFactor(m)], ['hw', () => admin.hardwareVersion(m)], ['mbus', () => admin.mbusInfo(m)],
      ['status', () => admin.status(m)], ['flags', () => admin.statusFlags(m)], ['meterEvents', () => admin.meterEvents(m)],
      ['alarms', () => admin.alarms(m)], ['reactive', () => admin.energy(m, 'reactive')], ['apparent', () => admin.energy(m, 'apparent')],
      ['co2', () => admin.energyValue(m, 'co2')], ['resettable', () => admin.resettableEnergy(m)], ['resetcounter', () => admin.resetCounter(m)],
      ['power', () => admin.power(m)], ['harmonicsV', () => admin.harmonics(m, 'voltage')], ['harmonicsI', () => admin.harmonics(m, 'current')],
      ['io', () => admin.io(m)], ['ioconfig', () => admin.ioConfiguration(m)], ['pulse', () => admin.pulse(m)],
      ['pv', () => admin.previousValues(m)], ['pvconfig', () => admin.previousValuesConfiguration(m)],
      ['lpconfig', () => admin.loadProfileConfiguration(m)], ['demand', () => admin.demand(m)], ['dmconfig', () => admin.demandConfiguration(m)],
      ['tariff', () => admin.tariff(m)], ['day', () => admin.dayProfiles(m)], ['week', () => admin.weekProfiles(m)],
      ['season', () => admin.seasonProfiles(m)], ['special', () => admin.specialDays(m)], ['lasterror', () => admin.lastError(0)],
    ];
    const failed: string[] = [];
    for (const [name, call] of calls) {
      try {
        const v = await call();
        if (v === null || v === undefined) failed.push(`${name}: empty`);
      } catch (e) { failed.push(`${name}: ${(e as Error).message}`); }
    }
    assert.deepEqual(failed, []);
  });

  it('writes settings, users and bindings; a multi-field error names the item', async () => {
    assert.deepEqual(await admin.setConversionFactor('ABB_8', { co2: 1.5, currency: 0.25 }), { status: 'success' });
    const cf = (await admin.conversionFactor('ABB_8')) as { conversionfactor: { co2: unknown[] } };
    assert.equal(Number(cf.conversionfactor.co2[0]), 1.5);
    await rejects(admin.setConversionFactor('ABB_8', { co2: 20 }), 'bad-request');
    await admin.addUser('harsha', 'harsha123');
    await admin.bind('harsha', 'ABB_9', 'View Only');
    const b = JSON.stringify(await admin.bindings('harsha'));
    assert.match(b, /ABB_9/);
    await admin.unbind('harsha', 'ABB_9');
    await admin.deleteUser('harsha');
    assert.ok(!(await admin.users()).includes('harsha'));
    await admin.setEqbus({ baudrate: 9600, interoctettimeout: 100 });
    assert.equal(((await admin.configuration()) as { eqbus: { baudrate: number } }).eqbus.baudrate, 9600);
    await rejects(admin.request('POST', '/configuration/eqbus', { interoctettimeout: 100 }), 'bad-request', /missing baudrate in JSON \./);
  });

  it('uploads a firmware image (multipart, stage 1), updates meters (stage 2) and follows the job', async () => {
    assert.deepEqual(await admin.uploadFirmware(Buffer.alloc(3000, 7), 'meter-a44.bin'), { status: 'success' });
    assert.deepEqual(await admin.updateMeterFirmware(['ABB_8']), { status: 'success' });
    const st = (await admin.firmwareStatus()) as { devices: { serial: string }[]; firmwareupdatecomplete: number };
    assert.ok([1, 2].includes(st.firmwareupdatecomplete));
    assert.equal(st.devices[0].serial, 'ABB_8');
    await rejects(admin.updateMeterFirmware(Array.from({ length: 11 }, (_, i) => `M${i}`)), 'bad-request');
  });

  it('reports the forced password change on login and completes it with {name, oldkey, key}', async () => {
    const factory = new G13Simulator({ tls: false });
    await factory.listen(0, '127.0.0.1');
    try {
      const c = new G13Client({ url: factory.url, user: 'admin', password: 'admin' });
      await rejects(c.login(), 'password-change', /POST \/login: 403 the gateway requires a password change: Please reset password and try again\./);
      assert.equal(await c.login({ name: 'admin', oldkey: 'admin', key: 'n3wsecret' }), null);
      assert.equal(await new G13Client({ url: factory.url, user: 'admin', password: 'n3wsecret' }).login(), null);
    } finally { await factory.close(); }
  });

  it('keeps bodies under 512 bytes and never sends query strings', async () => {
    await rejects(admin.request('PUT', '/permittedmeters', { meters: Array.from({ length: 40 }, (_, i) => `ABBXXXXXXXXXXX${i}`) }), 'invalid', /at most 512/);
    await rejects(admin.request('GET', '/meters?x=1'), 'invalid', /query strings/);
  });
});

/** A tiny gateway that answers with the OTHER reading of each contradiction, and counts parallel requests. */
function otherReading(): Promise<{ url: string; maxInFlight: () => number; close: () => Promise<void>; seen: string[] }> {
  let inFlight = 0;
  let max = 0;
  const seen: string[] = [];
  let scanPolls = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    max = Math.max(max, inFlight);
    seen.push(`${req.method} ${req.url}`);
    const send = (status: number, body: unknown) => setTimeout(() => {
      inFlight--;
      res.writeHead(status, { 'Content-Type': 'application/json', Link: '/lasterror/0' });
      res.end(JSON.stringify(body));
    }, 20);
    const url = req.url ?? '';
    if (url === '/meters/M1/powers') return send(200, { active: { total: ['1500', 'W'] }, reactive: { total: ['100', 'W'] } });
    if (url === '/meters/M1/tariff/seasons') return send(200, { seasonprofiles: [] });
    if (/^\/meters\/M1\/loadprofiles\/2024-01-01T00:00:00\//.test(url)) {
      return send(200, { mapping: [['active_import_total', 'Wh']], items: [[1, '2024-01-01T00:15:00', '1500'], [17, '2024-01-01T00:30:00', '1750']] });
    }
    if (url === '/meters' && req.method === 'DELETE') return send(200, { status: 'success' });
    if (url === '/meters/M1/previousvalues' && req.method === 'DELETE') return send(200, { status: 'error', des: 'received READ_WRITE_DENIED response from COSEM.' });
    if (url.startsWith('/meters/scanned/')) return send(200, { status: 'success' });
    if (url === '/meters/scanned') { scanPolls++; return send(200, { scanresult: [{ token: 1, serial: 'X1', protocol: '3', address: '17' }], scancomplete: scanPolls < 2 ? 2 : 0 }); }
    if (url === '/about') return send(200, { serial: 1234, jsonapiversion: '0.9' });
    return send(404, { status: 'error', des: 'URI not found.' });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxInFlight: () => max, seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  })));
}

describe('G13 client: the other reading of each contradiction, and one request at a time', () => {
  let fake: Awaited<ReturnType<typeof otherReading>>;
  let c: G13Client;
  before(async () => { fake = await otherReading(); c = new G13Client({ url: fake.url, user: 'admin', password: 'x', scanPollMs: 10 }); });
  after(async () => { await fake?.close(); });

  it('falls back to /powers, /tariff/seasons, loadprofiles without <channel> and DELETE /meters', async () => {
    const p = (await c.power('M1')) as { active: { total: string[] } };
    assert.deepEqual(p.active.total, ['1500', 'W']);
    assert.deepEqual(await c.seasonProfiles('M1'), { seasonprofiles: [] });
    const lp = await readLoadProfile(c, 'M1', 1, '2024-01-01T00:00:00', '2024-01-01T01:00:00');
    assert.deepEqual(lp.readings.map((r) => [r.value, r.unit, r.quality ?? 0]), [[1.5, 'kWh', 0], [1.75, 'kWh', 4]]);
    assert.deepEqual(await c.removeMeter('M9'), { status: 'success' });
    assert.ok(fake.seen.includes('DELETE /meters/M9') && fake.seen.includes('DELETE /meters'));
  });

  it('treats a 200 carrying {"status":"error"} (READ_WRITE_DENIED) as an error', async () => {
    await rejects(c.clearPreviousValues('M1'), 'forbidden', /READ_WRITE_DENIED/);
  });

  it('accepts scancomplete 0 after 2 (the manual\'s example) as a finished scan', async () => {
    const s = await c.scan({ token: 1, eqbus: { start: 17, end: 17 } }, 5000);
    assert.deepEqual(s.results, [{ token: 1, serial: 'X1', protocol: 3, address: '17' }]);
  });

  it('sends concurrent calls to one gateway one at a time, in order', async () => {
    const other = new G13Client({ url: fake.url, user: 'viewer', password: 'y' });
    const start = fake.seen.length;
    await Promise.all([c.about(), other.about(), c.about(), other.about(), c.about()]);
    assert.equal(fake.maxInFlight(), 1);
    assert.equal(fake.seen.length - start, 5);
  });
});
