export { LorawanPlatformClient, LorawanPlatformError, DEFAULT_PATH, endpointUrl, type ClientOptions, type Body, type Row } from './client';
export { METHODS, methodSpec, type MethodSpec } from './methods';
export { ENERGY_OBIS, toReading, recordsToReadings, platformTime, formatPlatformTime } from './readings';
export { meterConnection, type MeterConnection } from './meter';
export { readHistory, historyReadings, readPlatformBackfill, PAGE_SIZE, WINDOW_MS, type HistoryQuery, type HistoryResult } from './history';
