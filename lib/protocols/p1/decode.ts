/** One received frame (plain telegram or encrypted 0xDB frame) to readings and a summary. */
import type { Reading } from '../../model/reading';
import { GLO_CIPHERING, decryptFrame, P1DecryptError } from './encrypted';
import { toP1Readings, type P1ReadingOptions, type P1Summary } from './readings';
import { parseTelegram } from './telegram';

export interface P1DecodeOptions extends P1ReadingOptions {
  /** AES-128 key (32 hex digits) of an encrypted meter. */
  key?: string;
  /** Authentication key or AAD of an encrypted meter (see decryptFrame). */
  aad?: string;
  /** Reject telegrams whose CRC does not match (default true). */
  checkCrc?: boolean;
}

export interface DecodedP1 {
  readings: Reading[];
  telegram: P1Summary & { systemTitle?: string; frameCounter?: number };
}

export function decodeP1Frame(frame: Buffer, o: P1DecodeOptions): DecodedP1 {
  let bytes = frame;
  let envelope: { systemTitle: string; frameCounter: number } | undefined;
  if (frame[0] === GLO_CIPHERING) {
    if (!o.key) throw new P1DecryptError('an encrypted frame (0xDB) arrived but no decryption key is set');
    const d = decryptFrame(frame, { key: o.key, aad: o.aad });
    bytes = d.plaintext;
    envelope = { systemTitle: d.systemTitle, frameCounter: d.frameCounter };
  }
  const { readings, telegram } = toP1Readings(parseTelegram(bytes, { checkCrc: o.checkCrc }), o);
  return { readings, telegram: envelope ? { ...telegram, ...envelope } : telegram };
}
