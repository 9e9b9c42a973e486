export * from './meters';
export * from './sim';
export * from './cli';
