/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const BILLING_OPERATIONS: Operation[] = [];
