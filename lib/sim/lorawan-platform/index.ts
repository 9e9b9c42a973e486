export { LorawanPlatformSimulator, type Handled, type LoggedRequest } from './server';
export { Platform, type PlatformOptions, type Archive } from './platform';
export { PlatformError, Params, ALIASES, formatTime, parseTime } from './params';
export { METHODS } from './methods';
export { lorawanPlatformCli } from './cli';
