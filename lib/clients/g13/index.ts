/** ABB G13 energy meter gateway: client, value mapping and readings (manual chapter 6). */
export * from './transport';
export * from './client';
export * from './values';
export * from './quantities';
export * from './readings';
export * from './operations';
export * from './backfill';
