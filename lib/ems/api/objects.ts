/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const OBJECT_OPERATIONS: Operation[] = [];
