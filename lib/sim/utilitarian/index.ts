export { UtilitarianSimulator, DEMO_ORG, DEFAULT_TOKEN, type UtilitarianSimOptions } from './server';
export { SimStore, drfTime, parseTime, type SimUser } from './store';
export { signJwt, verifyJwt, decodeJwt } from './jwt';
export { utilitarianCli } from './cli';
