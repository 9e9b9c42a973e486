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
export * as mbus from './protocols/mbus';
export * as mbusSim from './sim/mbus';
export * as iec62056 from './protocols/iec62056-21';
export * as hex from './protocols/hex';
export * as iec62056Sim from './sim/iec62056';
export * as hexSim from './sim/hex';
export * as pipeline from './pipeline';
export * as tariff from './tariff';
export * as billing from './billing';
export * as csv from './csv';
export * as g13 from './clients/g13';
export * as g13Sim from './sim/g13';
export { Decimal } from './money/decimal';
export * as lorawan from './protocols/lorawan';
export * as lorawanPlatform from './clients/lorawan-platform';
export * as lorawanPlatformSim from './sim/lorawan-platform';
export * as utilitarian from './clients/utilitarian';
export * as utilitarianSim from './sim/utilitarian';
