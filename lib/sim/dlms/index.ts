export * from './simulator';
export * from './cli';
