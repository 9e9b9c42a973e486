/**
 * A DSMR P1 telegram: "/XXXZ<ident>" CR LF, an empty line, data lines "OBIS(value*unit)(...)" and "!"
 * followed by the CRC (DSMR 4.0 and later) or by CR LF alone (DSMR 2.2 and 3.0). The data lines are
 * IEC 62056-21 data sets, parsed by the IEC 62056-21 codec.
 */
import { parseDataBlock, type DataSet } from '../iec62056-21/datasets';
import { parseIdentification } from '../iec62056-21/frame';
import { P1CrcError, crcHex, p1Crc } from './crc';

export interface P1Telegram {
  /** The identification line without '/' and CR LF, e.g. "ISk5\2MT382-1000". */
  header: string;
  /** Three-letter manufacturer id of the header ("ISk", "KFM", "FLU"). */
  manufacturer: string;
  /** CRC sent and computed (hex); absent for telegrams without a CRC (DSMR 2.2/3.0). */
  crc?: { sent: string; computed: string; ok: boolean };
  sets: DataSet[];
}

export interface ParseOptions {
  /** Throw a P1CrcError when the CRC does not match (default true). */
  checkCrc?: boolean;
}

const HEX4 = /^[0-9A-Fa-f]{4}$/;

/** Parses one telegram from '/' to '!' and its CRC (latin1 text or bytes); throws naming the problem. */
export function parseTelegram(input: Buffer | string, opts: ParseOptions = {}): P1Telegram {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const start = bytes.indexOf(0x2f);
  if (start < 0) throw new Error('no telegram: "/" (start of the identification line) not found');
  const bang = bytes.indexOf(0x21, start);
  if (bang < 0) throw new Error('incomplete telegram: no "!" ends the data lines');
  for (let i = start; i <= bang; i++) {
    const b = bytes[i];
    if (b >= 0x80 || (b < 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09)) {
      throw new Error(`not a plain telegram: binary byte 0x${b.toString(16).padStart(2, '0')} at offset ${i - start}; an encrypted meter (Luxembourg, Austria) needs its decryption key, else check the serial settings (DSMR 2.2/3.0 send 9600 7E1)`);
    }
  }
  const eol = bytes.indexOf(0x0a, start);
  if (eol < 0 || eol > bang) throw new Error('the identification line is not ended by CR LF before "!"');
  const header = bytes.toString('latin1', start + 1, eol).replace(/\r$/, '');
  let manufacturer = header.slice(0, 3);
  try { manufacturer = parseIdentification(`/${header}`).manufacturer; } catch { /* a non-standard header keeps its first three characters */ }
  const out: P1Telegram = { header, manufacturer, sets: [] };
  const after = bytes.toString('latin1', bang + 1, Math.min(bytes.length, bang + 5));
  if (HEX4.test(after)) {
    const computed = crcHex(p1Crc(bytes, start, bang + 1));
    const sent = after.toUpperCase();
    out.crc = { sent, computed, ok: sent === computed };
    if (!out.crc.ok && opts.checkCrc !== false) throw new P1CrcError(computed, sent);
  } else if (after.length > 0 && !/^[\r\n]/.test(after)) {
    throw new Error(`"!" is followed by ${JSON.stringify(after)}, neither a 4-digit hex CRC nor CR LF`);
  }
  out.sets = parseDataBlock(bytes.toString('latin1', eol + 1, bang));
  return out;
}
