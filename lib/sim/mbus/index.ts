export * from './telegrams';
export * from './slave';
export * from './server';
export { mbusCli, parseSlave, DEFAULT_SLAVES } from './cli';
