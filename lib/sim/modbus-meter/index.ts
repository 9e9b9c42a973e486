export { MeterModel, COUNTERS, noise, type Counter, type MeterModelOptions, type MeterSnapshot } from './meter-model';
export { quantityFor, type QuantityFn } from './quantities';
export { RegisterMap, encodeRaw, type RegisterMapOptions } from './register-map';
export {
  ModbusMeterSimulator, ExceptionCode, isSinglePhase,
  type Fault, type ModbusMeterSimulatorOptions, type SimulatedUnit, type UnitStats,
} from './server';
