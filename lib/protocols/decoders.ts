/**
 * Registry of the decoders `ems-decode` offers: one entry per protocol, each turning the text an
 * integrator pastes (a hex telegram, a readout) into plain JSON. Protocol modules add their entry here.
 */
import { MBUS_DECODER } from './mbus/decode-cli';
export interface DecoderEntry {
  name: string;
  /** One line for `ems-decode --help`. */
  description: string;
  /** What the argument is: the data itself ("hex": ems-decode mbus 68 1F ...) or a file holding it. */
  argument: 'data' | 'file';
  /** Longer help: the accepted input and an example. */
  help: string;
  /** Decodes the input text (argument, file content or stdin); throws an Error naming offset and reason. */
  decode(input: string): unknown;
}

import { iec62056Decoder } from './iec62056-21/decode';
import { LORAWAN_DECODER } from './lorawan/decode-cli';
import { P1_DECODER } from './p1/decode-cli';
import { SML_DECODER } from './sml/decode-cli';
import { WMBUS_DECODER } from './wmbus/decode-cli';
import { DLMS_DECODER } from './dlms/decode-cli';

export const DECODERS: DecoderEntry[] = [];
DECODERS.push(MBUS_DECODER);
DECODERS.push(iec62056Decoder);
DECODERS.push(LORAWAN_DECODER);
DECODERS.push(P1_DECODER);
DECODERS.push(SML_DECODER);
DECODERS.push(WMBUS_DECODER);
DECODERS.push(DLMS_DECODER);

export function findDecoder(name: string): DecoderEntry | undefined {
  return DECODERS.find((d) => d.name === name);
}
