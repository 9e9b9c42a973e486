/**
 * Billing: meter and cost-center bills from readings and tariffs, sub-meter allocation, CSV and
 * printable HTML, and the immutable store of issued bills.
 */
export * from './bill';
export * from './hash';
export * from './readings';
export * from './store-readings';
export * from './credit-note';
export * from './cost-centers';
export * from './allocation';
export * from './render';
export * from './period';
export * from './bill-store';
export * from './prepaid';
