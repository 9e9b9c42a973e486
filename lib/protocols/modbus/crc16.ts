/**
 * Modbus CRC-16 (RTU framing, Modbus over serial line spec V1.02 §6.2.2): polynomial 0xA001
 * (0x8005 reflected), initial value 0xFFFF, no final XOR. The CRC is sent low byte first.
 */

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/MODBUS of `data[start..end)`; `crc` continues a running CRC (default: the initial 0xFFFF). */
export function crc16(data: Uint8Array, start = 0, end = data.length, crc = 0xffff): number {
  let c = crc & 0xffff;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ TABLE[(c ^ data[i]) & 0xff];
  return c;
}

/** The frame followed by its CRC, low byte first, as sent on the wire. */
export function appendCrc(frame: Buffer): Buffer {
  const c = crc16(frame);
  const out = Buffer.allocUnsafe(frame.length + 2);
  frame.copy(out, 0);
  out[frame.length] = c & 0xff;
  out[frame.length + 1] = c >>> 8;
  return out;
}

/** True when the last two bytes of `frame` are the CRC (low byte first) of the bytes before them. */
export function checkCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const c = crc16(frame, 0, frame.length - 2);
  return frame[frame.length - 2] === (c & 0xff) && frame[frame.length - 1] === c >>> 8;
}
