export * from './envelope';
export * from './meters-api';
