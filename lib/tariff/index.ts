export * from './types';
export { validateTariff, TariffValidationError, type Problem } from './validate';
export { normalisePeriod } from './validate-schedule';
export { dayType, localIso } from './calendar';
export { billingCycles, type BillingCycle } from './cycles';
export { touTimeline, type TouSpan } from './timeline';
export { priceConsumption, PriceError } from './price';
export * from './csv';
export * from './describe';
