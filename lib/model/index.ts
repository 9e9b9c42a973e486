export * from './reading';
export * from './quality';
export * from './obis';
export * from './units';
export * from './quantities';
