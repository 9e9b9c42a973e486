export * from './envelope';
export * from './meters-api';
export * from './db';
export * from './passwords';
export * from './users';
export * from './auth';
export * from './meter-definition';
export * from './registry';
