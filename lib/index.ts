/**
 * node-red-contrib-ems as a library, usable without Node-RED:
 * the canonical model at the top level, each area in its own namespace.
 */
export * from './model';
export * as modbus from './protocols/modbus';
export * as store from './store';
export * as ems from './ems';
export * as sim from './sim';
export * as modbusSim from './sim/modbus-meter';
export * as pipeline from './pipeline';
export * as tariff from './tariff';
export * as billing from './billing';
export { Decimal } from './money/decimal';
