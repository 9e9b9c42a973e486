/** The optical port's IEC 62056-21 mode E switch-over to HDLC, against a scripted meter behind a fake serial port. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ByteStream } from '../../lib/protocols/dlms/transport';
import { switchToModeE, withEvenParity } from '../../lib/protocols/dlms/transport-mode-e';
import { within } from '../fixtures/within';

/** A serial port whose meter answers the sign-on with `identification` (sent 7E1, echoing what it hears first). */
class OpticalHead implements ByteStream {
  readonly name = '/dev/ttyOPT0';
  readonly bauds: number[] = [];
  readonly written: string[] = [];
  parityOk = true;
  private data?: (b: Buffer) => void;
  constructor(private readonly identification?: string) {}
  onData(fn: (b: Buffer) => void): void { this.data = fn; }
  onEnd(): void { /* never ends */ }
  async setBaud(b: number): Promise<void> { this.bauds.push(b); }
  async close(): Promise<void> { /* nothing held */ }
  async write(bytes: Buffer): Promise<void> {
    const text = Buffer.from(bytes.map((c) => c & 0x7f)).toString('latin1');
    this.parityOk &&= withEvenParity(Buffer.from(text, 'latin1')).equals(bytes);
    this.written.push(text);
    setImmediate(() => {
      this.data?.(bytes); // the half-duplex head's echo
      if (text.startsWith('/?') && this.identification) this.data?.(withEvenParity(Buffer.from(`${this.identification}\r\n`, 'latin1')));
    });
  }
}

describe('IEC 62056-21 mode E switch-over', () => {
  it('signs on at 300 baud 7E1, selects HDLC at the offered speed and switches', async () => {
    const head = new OpticalHead('/LGZ5\\2ZMD3104407.B32');
    const r = await within(switchToModeE(head, { settleMs: 10 }), 3000, 'the mode E switch-over');
    assert.equal(r.baud, 9600);
    assert.equal(r.identification.manufacturer, 'LGZ');
    assert.deepEqual(head.written, ['/?!\r\n', '\x06252\r\n']);
    assert.deepEqual(head.bauds, [300, 9600]);
    assert.ok(head.parityOk, 'characters went out with even parity in bit 7');
  });
  it('caps the speed at maxBaud', async () => {
    const head = new OpticalHead('/ISk6\\2MT174');
    const r = await within(switchToModeE(head, { settleMs: 10, maxBaud: 4800 }), 3000, 'the capped switch-over');
    assert.deepEqual([r.baud, head.written[1], head.bauds], [4800, '\x06242\r\n', [300, 4800]]);
  });
  it('refuses a meter without HDLC and fails naming the missing identification', async () => {
    await assert.rejects(within(switchToModeE(new OpticalHead('/LGZ5ZMD3104407'), { settleMs: 10 }), 3000, 'the refusal'), /does not offer HDLC \(mode E\)/);
    await assert.rejects(within(switchToModeE(new OpticalHead(), { timeoutMs: 100 }), 3000, 'the timeout'), /no identification from the meter within 100 ms/);
  });
});
