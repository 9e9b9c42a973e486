/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const DATA_OPERATIONS: Operation[] = [];
