export * from './crc';
export * from './transport';
export * from './tl';
export * from './messages';
export * from './units';
export * from './readings';
export * from './telegram';
export * from './decode-cli';
