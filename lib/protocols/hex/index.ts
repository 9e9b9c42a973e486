export * from './hex';
export * from './link';
export * from './exchange';
export * from './codecs';
export * from './queue';
