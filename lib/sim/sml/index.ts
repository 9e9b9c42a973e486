export * from './meter';
export * from './server';
export * from './cli';
