/** Decoded wireless M-Bus telegram -> canonical Readings, through the wired M-Bus readings mapping. */
import type { Reading } from '../../model/reading';
import { telegramToReadings, type ReadingOptions } from '../mbus/readings';
import type { DecodedWmbus } from './telegram';

export function wmbusToReadings(t: DecodedWmbus, opts: ReadingOptions): Reading[] {
  return telegramToReadings(t.application, opts);
}
