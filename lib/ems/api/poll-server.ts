/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const POLL_SERVER_OPERATIONS: Operation[] = [];
