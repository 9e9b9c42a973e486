/**
 * Decodes a captured readout (identification line, STX ... ! CR LF ETX BCC, or just the data lines)
 * into its data sets; checks the BCC when the capture holds one. Used by `ems-decode iec62056`.
 */
import type { DecoderEntry } from '../decoders';
import { parseDataBlock, meterClock, type DataSet } from './datasets';
import { blockEnd, parseBlock, parseIdentification, type Identification } from './frame';

export interface DecodedReadout {
  identification?: Identification;
  /** 'ok' when the capture ends with ETX and a BCC that matches; absent when it has none. */
  bcc?: 'ok';
  /** The meter's clock (0.9.1/0.9.2 read as UTC), ISO. */
  clock?: string;
  sets: DataSet[];
}

/** Accepts raw bytes (latin1) or text where control characters may be written <STX>, <ETX>, \x02. */
export function decodeReadout(input: string | Buffer): DecodedReadout {
  let text = Buffer.isBuffer(input) ? input.toString('latin1') : input;
  text = text.replace(/<STX>/gi, '\x02').replace(/<ETX>/gi, '\x03').replace(/\\x02/g, '\x02').replace(/\\x03/g, '\x03');
  const out: DecodedReadout = { sets: [] };
  const ident = /(^|[\r\n])(\/[A-Za-z]{3}[^\r\n]*)/.exec(text.split('\x02')[0]);
  if (ident) out.identification = parseIdentification(ident[2]);
  const stx = text.indexOf('\x02');
  let block: string;
  if (stx >= 0) {
    const bytes = Buffer.from(text.slice(stx), 'latin1');
    const end = blockEnd(bytes);
    if (end > 0) {
      block = parseBlock(bytes.subarray(0, end)).data;
      out.bcc = 'ok';
    } else {
      block = text.slice(stx + 1).replace(/\x03[\s\S]*$/, '');
    }
  } else {
    block = ident ? text.slice(ident.index + ident[0].length) : text;
  }
  out.sets = parseDataBlock(block.replace(/!\s*$/, ''));
  const clock = meterClock(out.sets);
  if (clock !== null) out.clock = new Date(clock).toISOString();
  return out;
}

export const iec62056Decoder: DecoderEntry = {
  name: 'iec62056',
  description: 'IEC 62056-21 readout (optical port): data sets with OBIS code, values and units',
  argument: 'file',
  help: [
    'Reads a captured readout from FILE (or stdin without FILE): the identification',
    'line, then STX data lines "!" CR LF ETX BCC (the BCC is checked), or only the data lines.',
    'Prints {identification, bcc, clock, sets:[{address, obis, billingPeriod, values}]} as JSON.',
    'Example: ems-decode iec62056 test/fixtures/iec62056/iskra-mt174.bin',
  ].join('\n'),
  decode: (input) => decodeReadout(input),
};
