/** The server HDLC link state machine frame by frame: negotiation, addresses, repeats, segments, DISC and DM. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Control, type HdlcAddress, clientAddress, decodeFrame, decodeParameters, encodeFrame, encodeParameters, serverAddress, splitLlc } from '../../lib/protocols/dlms/hdlc';
import { HdlcServerLink } from '../../lib/protocols/dlms/hdlc-server';

const client = clientAddress(0x20);
const to = (server: HdlcAddress, control: Control, info: Buffer = Buffer.alloc(0), segmented = false) => decodeFrame(encodeFrame({ destination: server, source: client, control, segmented, info }));
const me = serverAddress(1, 17);
const kinds = (frames: Buffer[]) => frames.map((f) => decodeFrame(f).control.kind);

describe('HDLC server link', () => {
  it('answers SNRM with UA carrying the smaller information fields, from the address the client used', () => {
    const link = new HdlcServerLink({ logical: 1, physical: 17, maxInfo: 128 });
    const r = link.receive(to(me, { kind: 'SNRM', pf: true }, encodeParameters({ maxInfoTransmit: 512, maxInfoReceive: 64, windowTransmit: 1, windowReceive: 1 })));
    assert.equal(r.connected, 0x20);
    const ua = decodeFrame(r.send[0]);
    assert.equal(ua.control.kind, 'UA');
    assert.deepEqual(ua.source, me);
    assert.deepEqual(decodeParameters(ua.info), { maxInfoTransmit: 64, maxInfoReceive: 128, windowTransmit: 1, windowReceive: 1 });
  });
  it('ignores frames for another address, takes the logical address alone, answers DM while disconnected', () => {
    const link = new HdlcServerLink({ logical: 1, physical: 17 });
    assert.deepEqual(link.receive(to(serverAddress(1, 18), { kind: 'SNRM', pf: true })).send, []);
    assert.deepEqual(link.receive(to(serverAddress(2), { kind: 'SNRM', pf: true })).send, []);
    assert.deepEqual(kinds(link.receive(to(me, { kind: 'I', pf: true, ns: 0, nr: 0 }, Buffer.from([0xe6, 0xe6, 0, 0xc0]))).send), ['DM']);
    assert.deepEqual(kinds(link.receive(to(me, { kind: 'DISC', pf: true })).send), ['DM']);
    assert.deepEqual(kinds(link.receive(to(serverAddress(1), { kind: 'SNRM', pf: true })).send), ['UA']);
    assert.deepEqual(kinds(link.receive(to(serverAddress(1), { kind: 'DISC', pf: true })).send), ['UA']);
  });
  it('reassembles a segmented request, segments the answer one per RR, repeats a frame asked again', () => {
    const link = new HdlcServerLink({ logical: 1, physical: 17, maxInfo: 32 });
    link.receive(to(me, { kind: 'SNRM', pf: true }));
    const request = Buffer.concat([Buffer.from([0xe6, 0xe6, 0x00]), Buffer.alloc(40, 0xab)]);
    const rr = link.receive(to(me, { kind: 'I', pf: true, ns: 0, nr: 0 }, request.subarray(0, 32), true));
    assert.deepEqual(decodeFrame(rr.send[0]).control, { kind: 'RR', pf: true, nr: 1 });
    const whole = link.receive(to(me, { kind: 'I', pf: true, ns: 1, nr: 0 }, request.subarray(32)));
    assert.deepEqual(whole.apdu, Buffer.alloc(40, 0xab));
    const [first] = link.respond(Buffer.alloc(50, 0xcd));
    const f1 = decodeFrame(first);
    assert.deepEqual([f1.control, f1.segmented, splitLlc(f1.info).llc], [{ kind: 'I', pf: true, ns: 0, nr: 2 }, true, 'response']);
    // the client lost it and asks again with the same N(R): the same frame comes back
    assert.deepEqual(link.receive(to(me, { kind: 'RR', pf: true, nr: 0 })).send, [first]);
    const f2 = decodeFrame(link.receive(to(me, { kind: 'RR', pf: true, nr: 1 })).send[0]);
    assert.deepEqual([f2.control, f2.segmented], [{ kind: 'I', pf: true, ns: 1, nr: 2 }, false]);
    assert.equal(f1.info.length + f2.info.length, 53);
    // the request repeated (our answer lost): the last frame again, no second APDU
    const again = link.receive(to(me, { kind: 'I', pf: true, ns: 1, nr: 0 }, request.subarray(32)));
    assert.equal(again.apdu, undefined);
    assert.equal(decodeFrame(again.send[0]).control.ns, 1);
  });
});
