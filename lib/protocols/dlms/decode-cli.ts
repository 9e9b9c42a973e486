/**
 * `ems-decode dlms [--key K] [--auth A] [--system-title T] <hex>`: an HDLC frame (or several segments),
 * a wrapper PDU, DLMS in M-Bus frames, or a bare APDU -> JSON with the transport, the APDU (decrypted
 * when a key is given) and the OBIS values of a push telegram. Keys may also come from EMS_DLMS_KEY and
 * EMS_DLMS_AUTH_KEY; they are never printed.
 */
import type { DecoderEntry } from '../decoders';
import { DlmsDecodeError, parseHex } from './errors';
import { inspect } from './decode';
import { keyFrom } from './security';

export function decodeDlmsText(input: string, env: NodeJS.ProcessEnv = process.env): unknown {
  let text = input.trim();
  const take = (flag: string): string | undefined => {
    const m = new RegExp(`(?:^|\\s)${flag}[ =](\\S+)`).exec(text);
    if (!m) return undefined;
    text = (text.slice(0, m.index) + text.slice(m.index + m[0].length)).trim();
    return m[1];
  };
  const key = take('--key') ?? (env.EMS_DLMS_KEY || undefined);
  const auth = take('--auth') ?? (env.EMS_DLMS_AUTH_KEY || undefined);
  const title = take('--system-title');
  const unknown = /(?:^|\s)(--\S+)/.exec(text);
  if (unknown) throw new Error(`unknown option ${unknown[1]} (--key, --auth, --system-title)`);
  if (text === '') throw new Error('no DLMS bytes given');
  const keys = key ? { encryptionKey: keyFrom(key, '--key'), authenticationKey: auth ? keyFrom(auth, '--auth') : undefined } : undefined;
  const systemTitle = title ? parseHex(title, '--system-title') : undefined;
  if (systemTitle && systemTitle.length !== 8) throw new DlmsDecodeError(`--system-title is ${systemTitle.length} bytes, 8 expected`);
  return inspect(parseHex(text, 'the DLMS bytes'), { keys, systemTitle });
}

export const DLMS_DECODER: DecoderEntry = {
  name: 'dlms',
  description: 'DLMS/COSEM (IEC 62056): HDLC frames, wrapper PDUs, DLMS in M-Bus frames, APDUs; AES-GCM decryption',
  argument: 'data',
  help: [
    'Input: hex bytes (spaces allowed) of one or more HDLC frames (7E A0 ... 7E, segments are joined), a TCP',
    'wrapper PDU (00 01 ...), DLMS in M-Bus long frames (68 L L 68 ..., Austrian customer ports) or a bare APDU.',
    'Options: --key <32 hex digits> the encryption key (or EMS_DLMS_KEY), --auth <32 hex digits> the',
    'authentication key (or EMS_DLMS_AUTH_KEY), --system-title <16 hex digits> the sender\'s system title',
    'for glo- APDUs (general-glo-ciphering and push telegrams carry their own).',
    'Output: JSON with the transport (addresses, control field, segments), the APDU (AARQ/AARE, GET/SET/ACTION,',
    'DataNotification, ciphered APDUs decrypted and their tag checked) and the OBIS values of push telegrams.',
    'Example: ems-decode dlms --key 000102030405060708090A0B0C0D0E0F --auth D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
    '  --system-title 4D4D4D0000BC614E C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B',
    '  (Green Book glo-get-request of the clock, 0-0:1.0.0.255 attribute 2)',
  ].join('\n'),
  decode: (input) => decodeDlmsText(input),
};
