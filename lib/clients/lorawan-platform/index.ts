export { LorawanPlatformClient, LorawanPlatformError, DEFAULT_PATH, endpointUrl, type ClientOptions, type Body, type Row } from './client';
export { METHODS, methodSpec, type MethodSpec } from './methods';
export { ENERGY_OBIS, toReading, recordsToReadings, platformTime, formatPlatformTime } from './readings';
export { meterConnection, type MeterConnection } from './meter';
