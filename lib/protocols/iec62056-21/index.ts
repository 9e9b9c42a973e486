export * from './frame';
export * from './datasets';
export * from './session';
export * from './decode';
export * from './load-profile';
