/**
 * Registry of the simulators `ems-sim` can start: one line per simulator.
 */
import { modbusMeterCli } from './modbus-meter/cli';
import type { SimulatorEntry } from './registry';

export * from './registry';

export const SIMULATORS: readonly SimulatorEntry<any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  modbusMeterCli,
];

export function findSimulator(name: string): SimulatorEntry<any> | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  return SIMULATORS.find((s) => s.name === name);
}
