/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const REPORT_OPERATIONS: Operation[] = [];
