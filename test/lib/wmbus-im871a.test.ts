import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeWmbus, encodeHciFrame, encodeHciIndication, encodeSetLinkMode, encodeWmbus, HCI_ENDPOINT, HCI_MSG, hciCrc, HciReader,
  hciTelegram, im871aRssiDbm, peekMeter, setConfigLinkMode, type HciEvent,
} from '../../lib/protocols/wmbus';
import { wmbusCli } from '../../lib/sim/wmbus';
import { UsageError } from '../../lib/sim/registry';

// Raw iM871A bytes published in wmbusmeters issues (wmbusmeters' serial debug log of a real stick):
/** Issue #951: the answer to DEVMGMT_MSG_GET_DEVICEINFO_REQ (A5 01 0F 00): FCS attached, type 0x33 = iM871A, firmware 0x13. */
const ISSUE_951_DEVICE_INFO = 'A581100833001301F13A000053D9';
/** Issue #951: the answer to DEVMGMT_MSG_GET_CONFIG_REQ. */
const ISSUE_951_CONFIG = 'A5810617FF000700B32512351000010001FF07023200010000000063C9';
/** Issue #1350: a receive indication (RSSI and FCS attached) of a heat meter, logged "rssi 63 (-91 dBm)", "got crc16 b9cb". */
const ISSUE_1350_IND = 'A5C203A944C5144473352200047ABB00902519ED95B2B5934D025798E2E21E6A6698C64C58F22D43C0D1870441470E6C2346AA08B4CA3B65760762F6A74D94BF6FC786BD87437C0FE9163A3BD54A68783C8EE9D53214800CEF8C8C54722F4CAB516F734F8860A48D227BCFF89C68650C4FE9ACA10052B4EE8EBF5F053FFD9239589B27BF57181DF27B2908617A13EAC092F2C96535DEBFC6283ED0A6063AE5EF8AA503FD0C05010002FD0B01113FCBB9';

const KEY = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
const water = (id: string, litres: number) => {
  const rec = Buffer.from([0x04, 0x13, 0, 0, 0, 0]);
  rec.writeUInt32LE(litres, 2);
  return encodeWmbus({ manufacturer: 'ELS', id, version: 1, deviceType: 7, accessNumber: 9, records: rec, mode: 5, key: KEY });
};
const frames = (events: HciEvent[]) => events.filter((e) => e.frame).map((e) => e.frame!);
const errors = (events: HciEvent[]) => events.filter((e) => e.error).map((e) => e.error!.message);

describe('iM871A HCI', () => {
  it('the FCS of the published frames matches CRC-16/X-25 (check value of "123456789" is 906E)', () => {
    assert.equal(hciCrc(Buffer.from('123456789')), 0x906e);
    for (const hex of [ISSUE_951_DEVICE_INFO, ISSUE_951_CONFIG, ISSUE_1350_IND]) {
      const b = Buffer.from(hex, 'hex');
      assert.equal(hciCrc(b, 1, b.length - 2), b.readUInt16LE(b.length - 2), hex.slice(0, 12));
    }
  });

  it('reads the published device info answer and receive indication; the indication is the telegram with its L-field back', () => {
    const r = new HciReader();
    const events = r.push(Buffer.from(ISSUE_951_DEVICE_INFO + ISSUE_1350_IND, 'hex'));
    assert.deepEqual(errors(events), []);
    const [info, ind] = frames(events);
    assert.equal(info.endpoint, HCI_ENDPOINT.devmgmt);
    assert.equal(info.msgId, HCI_MSG.deviceInfoRsp);
    assert.equal(info.payload[0], 0x33); // module type iM871A
    assert.equal(hciTelegram(info), undefined);
    const t = hciTelegram(ind)!;
    assert.equal(t.bytes.length, 0xa9 + 1);
    assert.equal(t.bytes[0], 0xa9); // L-field = payload length (the stick drops L and the CRCs)
    assert.equal(t.bytes[1], 0x44); // C-field SND_NR
    assert.equal(t.rssiRaw, 63);
    assert.equal(t.rssi, -91); // as wmbusmeters reported it for this frame
    const who = peekMeter(t.bytes);
    assert.equal(who.id, '22357344');
  });

  it('takes frames split across chunks byte by byte', () => {
    const r = new HciReader();
    const all = Buffer.from(ISSUE_951_CONFIG + ISSUE_1350_IND, 'hex');
    const got: HciEvent[] = [];
    for (const b of all) got.push(...r.push(Buffer.from([b])));
    assert.deepEqual(errors(got), []);
    assert.deepEqual(frames(got).map((f) => [f.endpoint, f.msgId, f.payload.length]), [[1, HCI_MSG.getConfigRsp, 0x17], [2, HCI_MSG.wmbusMsgInd, 0xa9]]);
  });

  it('skips garbage between frames, and a frame with a bad FCS without losing the next one', () => {
    const good1 = encodeHciIndication(water('11110001', 1234), 100);
    const bad = encodeHciIndication(water('11110002', 2345), 100);
    bad[20] ^= 0xff;
    const good2 = encodeHciIndication(water('11110003', 3456), 100);
    const garbage = Buffer.from([0x00, 0xa5, 0x13, 0xff, 0x42, 0xa5]); // includes false SOFs
    const r = new HciReader();
    const events = [
      ...r.push(Buffer.concat([garbage, good1, garbage, bad.subarray(0, 7)])),
      ...r.push(Buffer.concat([bad.subarray(7), good2.subarray(0, 3)])),
      ...r.push(good2.subarray(3)),
    ];
    const ids = frames(events).map((f) => peekMeter(hciTelegram(f)!.bytes).id);
    assert.deepEqual(ids, ['11110001', '11110003']);
    assert.ok(errors(events).some((m) => /FCS .* computed/.test(m)), errors(events).join('; '));
    assert.ok(errors(events).some((m) => /skipped \d+ bytes/.test(m)));
    const last = decodeWmbus(hciTelegram(frames(events)[1])!.bytes, { key: KEY });
    assert.equal(last.meter.id, '11110003');
  });

  it('a false SOF in garbage announcing a frame without FCS does not swallow the good frame after it', () => {
    const good = encodeHciIndication(water('11110004', 4567), 100);
    const falseHeader = Buffer.from([0xa5, 0x02, 0x03, 0x08, 1, 2, 3]); // no FCS flag, length 8: would end inside `good`
    const events = new HciReader().push(Buffer.concat([falseHeader, good]));
    assert.deepEqual(frames(events).map((f) => peekMeter(hciTelegram(f)!.bytes).id), ['11110004']);
  });

  it('random garbage (rich in 0xA5) and random chunking: every good frame is found, nothing throws', () => {
    let seed = 0x1234567;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const goods = Array.from({ length: 40 }, (_, i) => encodeHciIndication(water(String(11120000 + i), i * 10), 90));
    const parts: Buffer[] = [];
    for (const g of goods) {
      parts.push(Buffer.from(Array.from({ length: rnd(40) }, () => (rnd(4) === 0 ? 0xa5 : rnd(256)))));
      parts.push(g);
    }
    const stream = Buffer.concat(parts);
    const r = new HciReader();
    const found: string[] = [];
    for (let o = 0; o < stream.length;) {
      const n = 1 + rnd(64);
      for (const e of r.push(stream.subarray(o, o + n))) if (e.frame) { const t = hciTelegram(e.frame); if (t) found.push(peekMeter(t.bytes).id); }
      o += n;
    }
    assert.deepEqual(found.filter((id) => id.startsWith('1112')), goods.map((_, i) => String(11120000 + i)));
  });

  it('a frame without FCS and with a time stamp is read as the control field says', () => {
    const f = encodeHciFrame({ endpoint: HCI_ENDPOINT.radiolink, msgId: HCI_MSG.wmbusMsgInd, payload: water('12345678', 1).subarray(1), timestamp: 0x01020304, rssi: 200 });
    const [frame] = frames(new HciReader().push(f));
    assert.equal(frame.crc, false);
    assert.equal(frame.timestamp, 0x01020304);
    assert.equal(frame.rssi, 200);
    assert.equal(im871aRssiDbm(200), -22);
  });

  it('encodes the link mode request the way the stick reads it', () => {
    const t1 = encodeSetLinkMode('T1');
    assert.equal(t1.toString('hex').toUpperCase(), 'A501030600020330' + '0100');
    const [f] = frames(new HciReader().push(Buffer.concat([encodeSetLinkMode('C1'), t1])));
    assert.equal(setConfigLinkMode(f), 'C1');
    assert.throws(() => encodeSetLinkMode('X9' as never), /link mode "X9"/);
  });
});

describe('ems-sim wmbus --stick', () => {
  it('takes --stick im871a with --serial, and names the option that is wrong or missing', () => {
    const o = wmbusCli.parse({ stick: 'im871a', serial: '/dev/pts/9' });
    assert.equal(o.stick, 'im871a');
    assert.equal(o.serial, '/dev/pts/9');
    assert.equal(o.out, undefined); // no hex lines on stdout when the telegrams go to the stick's port
    assert.throws(() => wmbusCli.parse({ stick: 'cul', serial: '/dev/pts/9' }), (e: Error) => e instanceof UsageError && /--stick: "cul" is not im871a/.test(e.message));
    assert.throws(() => wmbusCli.parse({ stick: 'im871a' }), /--stick needs --serial PATH/);
    assert.throws(() => wmbusCli.parse({ serial: '/dev/pts/9' }), /--serial needs --stick im871a/);
  });
});
