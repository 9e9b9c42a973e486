/**
 * A telegram = one transport frame with its messages decoded. `SmlTelegramReader` turns a byte
 * stream into telegrams and errors (CRC, broken frames, bad messages), each naming its offset.
 */
import { decodeMessages, type SmlMessage, type SmlTime } from './messages';
import { serverIdOf } from './readings';
import { SmlError, SmlFrameExtractor, streamOffset, type FrameEvent, type SmlFrame } from './transport';

export interface SmlTelegram {
  frame: SmlFrame;
  messages: SmlMessage[];
  /** Server id (hex) of the GetListResponse or OpenResponse. */
  serverId: string | null;
  /** actSensorTime of the first GetListResponse. */
  sensorTime: SmlTime | null;
}

export type TelegramEvent = { telegram: SmlTelegram; error?: undefined } | { error: SmlError; telegram?: undefined };

/** Decodes the messages of a checked frame; throws SmlError (message CRC, structure) with a stream offset. */
export function decodeFrame(frame: SmlFrame): SmlTelegram {
  const messages = decodeMessages(frame.payload, (i) => streamOffset(frame, i));
  const list = messages.find((m) => m.body.kind === 'getListResponse')?.body;
  return { frame, messages, serverId: serverIdOf(messages), sensorTime: list?.kind === 'getListResponse' ? list.actSensorTime : null };
}

function toEvent(e: FrameEvent): TelegramEvent {
  if (e.error) return { error: e.error };
  try {
    return { telegram: decodeFrame(e.frame) };
  } catch (err) {
    return { error: err instanceof SmlError ? err : new SmlError(e.frame.offset, String(err)) };
  }
}

export class SmlTelegramReader {
  readonly frames: SmlFrameExtractor;
  constructor(maxFrameBytes?: number) {
    this.frames = new SmlFrameExtractor(maxFrameBytes);
  }

  push(chunk: Uint8Array): TelegramEvent[] {
    return this.frames.push(chunk).map(toEvent);
  }

  flush(): TelegramEvent[] {
    return this.frames.flush().map(toEvent);
  }
}

/** Every telegram and error of a complete capture. */
export function decodeCapture(data: Uint8Array, maxFrameBytes?: number): TelegramEvent[] {
  const r = new SmlTelegramReader(maxFrameBytes);
  return [...r.push(data), ...r.flush()];
}
