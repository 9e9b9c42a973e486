/** CRC-16 of the wireless M-Bus link layer (EN 13757-4): polynomial 0x3D65, init 0, final XOR 0xFFFF, not reflected. */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 8;
    for (let k = 0; k < 8; k++) r = r & 0x8000 ? ((r << 1) ^ 0x3d65) & 0xffff : (r << 1) & 0xffff;
    t[i] = r;
  }
  return t;
})();

export function crc16En13757(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ TABLE[((c >> 8) ^ data[i]) & 0xff];
  return c ^ 0xffff;
}
