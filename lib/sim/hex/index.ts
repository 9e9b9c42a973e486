export * from './server';
export * from './cli';
