/**
 * The one error every DLMS decoder throws for bytes it cannot use (bad checksum, truncated, a tag it
 * does not know, a length past the end, nesting too deep, a failed GCM tag). `offset` is where in the
 * decoded buffer the problem was found (-1 when it concerns the whole buffer); `code` says what kind.
 */
export type DlmsErrorCode = 'format' | 'truncated' | 'checksum' | 'unsupported' | 'limit' | 'no-key' | 'wrong-key';

export class DlmsDecodeError extends Error {
  constructor(message: string, readonly offset = -1, readonly code: DlmsErrorCode = 'format') {
    super(offset >= 0 ? `dlms: ${message} (at byte ${offset})` : `dlms: ${message}`);
    this.name = 'DlmsDecodeError';
  }
}

/** A bounded cursor over a buffer: every read checks the remaining length and throws DlmsDecodeError. */
export class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new DlmsDecodeError(`${what} needs ${n} bytes, ${this.end - this.pos} left`, this.pos, 'truncated');
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const b = this.buf, p = this.pos;
    this.pos += 4;
    return ((b[p] << 24) >>> 0) + (b[p + 1] << 16) + (b[p + 2] << 8) + b[p + 3];
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
  /** A-XDR length: one byte below 0x80, else 0x8N followed by N (1..4) big-endian bytes. */
  length(what: string): number {
    const at = this.pos;
    const first = this.u8(`${what} length`);
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new DlmsDecodeError(`${what} length byte 0x${first.toString(16)} is not a 1..4 byte length`, at);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.u8(`${what} length`);
    return v;
  }
}

/** Encodes an A-XDR / BER definite length. */
export function encodeLength(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`length ${n} is not 0..4294967295`);
  if (n < 0x80) return Buffer.from([n]);
  if (n <= 0xff) return Buffer.from([0x81, n]);
  if (n <= 0xffff) return Buffer.from([0x82, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x84;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Hex text (spaces, colons, dashes, 0x prefixes allowed) to bytes; throws naming the bad character. */
export function parseHex(text: string, what = 'hex'): Buffer {
  const clean = text.replace(/0x/gi, '').replace(/[\s:,-]/g, '');
  const bad = /[^0-9a-fA-F]/.exec(clean);
  if (bad) throw new DlmsDecodeError(`${what} has a non-hex character ${JSON.stringify(bad[0])}`);
  if (clean.length % 2) throw new DlmsDecodeError(`${what} has an odd number of hex digits (${clean.length})`);
  return Buffer.from(clean, 'hex');
}
