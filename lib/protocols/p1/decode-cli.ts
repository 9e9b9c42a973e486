/**
 * `ems-decode p1 <file>`: a captured P1 stream (one or more telegrams, junk between them allowed) or an
 * encrypted frame (raw bytes, or hex text starting with DB) -> JSON: summary, readings and data sets.
 * Environment: EMS_P1_KEY / EMS_P1_AAD (encrypted meters), EMS_P1_TIME_ZONE (default Europe/Amsterdam),
 * EMS_P1_CHECK_CRC=0 (decode despite a CRC mismatch, which is then shown in "crc").
 */
import type { DecoderEntry } from '../decoders';
import { decodeP1Frame } from './decode';
import { TelegramExtractor } from './extractor';
import { parseTelegram } from './telegram';

export function decodeP1Text(input: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const compact = input.replace(/\s+/g, '');
  const hex = /^db[0-9a-f]+$/i.test(compact) && compact.length % 2 === 0;
  const bytes = hex ? Buffer.from(compact, 'hex') : Buffer.from(input, 'latin1');
  const encrypted = bytes[0] === 0xdb;
  const extractor = new TelegramExtractor({ encrypted, maxBytes: Math.max(bytes.length, 1024) });
  const frames = extractor.push(bytes);
  if (!encrypted) {
    // A capture ending right after "!" (DSMR 2.2/3.0 without CR LF) still counts.
    const rest = input.slice(input.lastIndexOf('/'));
    if (!frames.length && /![\r\n]*$/.test(rest)) frames.push(Buffer.from(rest.replace(/[\r\n]+$/, ''), 'latin1'));
  }
  if (!frames.length) throw new Error(encrypted ? 'no complete encrypted frame (0xDB ... tag) in the input' : 'no complete telegram ("/" ... "!") in the input');
  const opts = { meter: 'p1', timeZone: env.EMS_P1_TIME_ZONE || undefined, key: env.EMS_P1_KEY, aad: env.EMS_P1_AAD, checkCrc: env.EMS_P1_CHECK_CRC !== '0' };
  const out = frames.map((f, i) => {
    try {
      const d = decodeP1Frame(f, opts);
      return { ...d.telegram, readings: d.readings, sets: encrypted ? undefined : parseTelegram(f, { checkCrc: false }).sets };
    } catch (e) {
      throw new Error(`telegram ${i + 1} of ${frames.length}: ${(e as Error).message}`);
    }
  });
  return out.length === 1 ? out[0] : out;
}

export const P1_DECODER: DecoderEntry = {
  name: 'p1',
  description: 'DSMR P1 telegrams (2.2-5.0, e-MUCS, Smarty): CRC, meter time, readings, M-Bus channels, power failures',
  argument: 'file',
  help: [
    'Reads FILE (or stdin): one or more telegrams as captured from the P1 port ("/XXX5..." to "!CRC"),',
    'junk between them is skipped; or an encrypted frame (raw, or hex text starting with DB) decrypted',
    'with EMS_P1_KEY (32 hex digits) and EMS_P1_AAD (authentication key, optional).',
    'Prints {header, version, equipmentId, time, tariff, crc, powerFailureLog, channels, readings, sets}',
    '(an array for several telegrams). A CRC mismatch exits 1 naming the expected and received CRC;',
    'EMS_P1_CHECK_CRC=0 decodes anyway. Meter clocks are read in EMS_P1_TIME_ZONE (default Europe/Amsterdam).',
    'Example: ems-decode p1 test/fixtures/p1/dsmr-5.0-iskra.txt',
  ].join('\n'),
  decode: (input) => decodeP1Text(input),
};
