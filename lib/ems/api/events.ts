/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const EVENT_OPERATIONS: Operation[] = [];
