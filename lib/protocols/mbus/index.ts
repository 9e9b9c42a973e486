export * from './frame';
export * from './types';
export * from './telegram';
export * from './readings';
export * from './timing';
export * from './transport';
export * from './master';
export * from './scan';
