/** Section stub: filled by its owner. */
import type { Operation } from './types';

export const USERS_OPERATIONS: Operation[] = [];
