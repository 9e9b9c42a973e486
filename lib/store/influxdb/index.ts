/** The InfluxDB backend of the reading store: schema, line protocol, InfluxQL, disk spool and the store. */
export * from './schema';
export * from './line-protocol';
export * from './influxql';
export * from './spool';
export * from './store';
