/**
 * Registry of the simulators `ems-sim` can start: one line per simulator.
 */
import { modbusMeterCli } from './modbus-meter/cli';
import type { SimulatorEntry } from './registry';

export * from './registry';

/** Each entry keeps its own option type; the CLI only passes parse()'s result back to start(). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySimulator = SimulatorEntry<any>;

export const SIMULATORS: readonly AnySimulator[] = [
  modbusMeterCli,
];

export function findSimulator(name: string): AnySimulator | undefined {
  return SIMULATORS.find((s) => s.name === name);
}
