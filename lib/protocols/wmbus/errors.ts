/** Why a wireless M-Bus telegram cannot be used; the message names the meter when the header was readable. */
export class WmbusDecodeError extends Error {
  constructor(readonly reason: string, readonly meter?: string, readonly code: WmbusErrorCode = 'format') {
    super(meter ? `wmbus: telegram from ${meter}: ${reason}` : `wmbus: ${reason}`);
    this.name = 'WmbusDecodeError';
  }
}

/** crc: link layer CRC; format: bytes that do not fit the standard; no-key: encrypted, no key; wrong-key: 2F2F or MAC check failed; unsupported: a mode we do not decrypt. */
export type WmbusErrorCode = 'crc' | 'format' | 'no-key' | 'wrong-key' | 'unsupported';
