/** The client HDLC link state machine against a scripted server: connect, segmented send and receive, N(S)/N(R) checks, release. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HdlcClientLink } from '../../lib/protocols/dlms/hdlc-link';
import { type Control, clientAddress, decodeFrame, decodeParameters, encodeFrame, encodeParameters, serverAddress, splitLlc, LLC_RESPONSE } from '../../lib/protocols/dlms/hdlc';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';

const client = clientAddress(16);
const server = serverAddress(1, 17);
const fromServer = (control: Control, info: Buffer = Buffer.alloc(0), segmented = false) => decodeFrame(encodeFrame({ destination: client, source: server, control, segmented, info }));
const aare = Buffer.from('6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000501F01F40007', 'hex');

function connected(): HdlcClientLink {
  const link = new HdlcClientLink({ client, server, proposed: { maxInfoTransmit: 128, maxInfoReceive: 128 } });
  const snrm = decodeFrame(link.connect());
  assert.equal(snrm.control.kind, 'SNRM');
  assert.deepEqual(decodeParameters(snrm.info), { maxInfoTransmit: 128, maxInfoReceive: 128, windowTransmit: 1, windowReceive: 1 });
  const r = link.receive(fromServer({ kind: 'UA', pf: true }, encodeParameters({ maxInfoTransmit: 128, maxInfoReceive: 64, windowTransmit: 1, windowReceive: 1 })));
  assert.deepEqual(r.event, { type: 'connected', parameters: { maxInfoTransmit: 64, maxInfoReceive: 128, windowTransmit: 1, windowReceive: 1 } });
  return link;
}

describe('HDLC client link', () => {
  it('connects, sends an APDU with the LLC header and N(S)=0, and takes the response I-frame', () => {
    const link = connected();
    const aarq = Buffer.from('601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0', 'hex');
    const sent = decodeFrame(link.sendApdu(aarq));
    assert.deepEqual(sent.control, { kind: 'I', pf: true, ns: 0, nr: 0 });
    assert.equal(splitLlc(sent.info).llc, 'command');
    assert.deepEqual(splitLlc(sent.info).apdu, aarq);
    const r = link.receive(fromServer({ kind: 'I', pf: true, ns: 0, nr: 1 }, Buffer.concat([LLC_RESPONSE, aare])));
    assert.deepEqual(r.event, { type: 'apdu', apdu: aare });
    assert.deepEqual(decodeFrame(link.resend() as Buffer), sent);
  });
  it('sends a long APDU in segments, one per RR, and reassembles a segmented response after sending RR', () => {
    const link = connected();
    const big = Buffer.alloc(150, 0x5a);
    const frames = [decodeFrame(link.sendApdu(big))];
    assert.deepEqual([frames[0].control.ns, frames[0].segmented, frames[0].info.length], [0, true, 64]);
    let r = link.receive(fromServer({ kind: 'RR', pf: true, nr: 1 }));
    frames.push(decodeFrame(r.send as Buffer));
    r = link.receive(fromServer({ kind: 'RR', pf: true, nr: 2 }));
    frames.push(decodeFrame(r.send as Buffer));
    assert.deepEqual(frames.map((f) => [f.control.ns, f.segmented, f.info.length]), [[0, true, 64], [1, true, 64], [2, false, 25]]);
    assert.deepEqual(splitLlc(Buffer.concat(frames.map((f) => f.info))).apdu, big);
    // the response arrives in two segments
    const response = Buffer.concat([LLC_RESPONSE, Buffer.alloc(200, 0xa5)]);
    r = link.receive(fromServer({ kind: 'I', pf: true, ns: 0, nr: 3 }, response.subarray(0, 120), true));
    assert.deepEqual(decodeFrame(r.send as Buffer).control, { kind: 'RR', pf: true, nr: 1 });
    r = link.receive(fromServer({ kind: 'I', pf: true, ns: 1, nr: 3 }, response.subarray(120)));
    assert.deepEqual(r.event, { type: 'apdu', apdu: Buffer.alloc(200, 0xa5) });
  });
  it('refuses a wrong N(S), a wrong N(R), a frame from another server and a second APDU in flight', () => {
    const link = connected();
    link.sendApdu(Buffer.from('C001C100030100010800FF0200', 'hex'));
    assert.throws(() => link.sendApdu(Buffer.from('00', 'hex')), /still being sent/);
    assert.throws(() => link.receive(fromServer({ kind: 'I', pf: true, ns: 3, nr: 1 }, LLC_RESPONSE)), (e: unknown) => e instanceof DlmsDecodeError && /N\(S\) 3, 0 expected/.test(e.message));
    assert.throws(() => link.receive(fromServer({ kind: 'RR', pf: true, nr: 5 })), /N\(R\) 5/);
    const other = decodeFrame(encodeFrame({ destination: client, source: serverAddress(1, 18), control: { kind: 'RR', pf: true, nr: 1 }, segmented: false, info: Buffer.alloc(0) }));
    assert.throws(() => link.receive(other), /expected from 1\/17/);
    assert.throws(() => new HdlcClientLink({ client, server }).sendApdu(Buffer.alloc(1)), /not connected/);
  });
  it('bounds a reassembled APDU', () => {
    const link = new HdlcClientLink({ client, server, maxApdu: 100 });
    link.connect();
    link.receive(fromServer({ kind: 'UA', pf: true }));
    link.receive(fromServer({ kind: 'I', pf: true, ns: 0, nr: 0 }, Buffer.alloc(80), true));
    assert.throws(() => link.receive(fromServer({ kind: 'I', pf: true, ns: 1, nr: 0 }, Buffer.alloc(80), true)), (e: unknown) => e instanceof DlmsDecodeError && e.code === 'limit');
  });
  it('disconnects with DISC/UA, and DM closes the link too', () => {
    const link = connected();
    assert.equal(decodeFrame(link.disconnect()).control.kind, 'DISC');
    assert.deepEqual(link.receive(fromServer({ kind: 'UA', pf: true })).event, { type: 'disconnected', reason: 'UA' });
    assert.equal(link.state, 'disconnected');
    const again = connected();
    assert.deepEqual(again.receive(fromServer({ kind: 'DM', pf: true })).event, { type: 'disconnected', reason: 'DM' });
  });
});
