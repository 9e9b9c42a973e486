/** `ems-decode lorawan <PHYPayload> [NwkSKey:AppSKey] [codec]`: a raw frame's fields, MIC check, decrypted payload, readings. */
import type { DecoderEntry } from '../decoders';
import { computeMic, cryptFrmPayload, parseDataFrame, toBytes } from './phy';
import { findCodec } from './codecs';
import { parseSessionKeys, toReading } from './uplink';

export const LORAWAN_DECODER: DecoderEntry = {
  name: 'lorawan',
  description: 'a LoRaWAN PHYPayload (hex/base64): header fields, MIC check and decrypted FRMPayload with the session keys',
  argument: 'data',
  help: 'Input: <PHYPayload hex or base64> [NwkSKey:AppSKey] [codec[:param]]\n'
    + 'Example: ems-decode lorawan 40F17DBE4900020001954378762B11FF0D 44024241ed4ce9a68c6a8bc055233fd3:ec925802ae430ca77fd3dd73cb2cc588',
  decode(input: string) {
    const [phy, keys, codecId] = input.trim().split(/\s+/);
    const frame = parseDataFrame(toBytes(phy));
    const out: Record<string, unknown> = {
      mtype: frame.mtype, devAddr: frame.devAddr, adr: frame.adr, ack: frame.ack, fCnt: frame.fCnt16,
      fOpts: frame.fOpts.toString('hex'), fPort: frame.fPort, frmPayload: frame.frmPayload.toString('hex'), mic: frame.mic.toString('hex'),
    };
    if (!keys) return out;
    const k = parseSessionKeys(keys, 'keys');
    const mic = computeMic(frame, k.nwkSKey, frame.fCnt16);
    out.micValid = mic.equals(frame.mic);
    if (!out.micValid) out.micComputed = mic.toString('hex');
    if (frame.fPort === undefined) return out;
    const plain = cryptFrmPayload(frame, frame.fPort === 0 ? k.nwkSKey : k.appSKey, frame.fCnt16);
    out.payload = plain.toString('hex');
    if (codecId) {
      const { codec, param } = findCodec(codecId);
      out.readings = codec.decode(plain, frame.fPort, param).map((v) => toReading(frame.devAddr, v, Date.now()));
    }
    return out;
  },
};
