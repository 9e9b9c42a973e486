/**
 * Registry of the simulators `ems-sim` can start: one line per simulator.
 */
import { modbusMeterCli } from './modbus-meter/cli';
import { g13Cli } from './g13/cli';
import { mbusCli } from './mbus/cli';
import { iec62056Cli } from './iec62056/cli';
import { dlmsCli } from './dlms/cli';
import { hexCli } from './hex/cli';
import { p1Cli } from './p1/cli';
import { smlCli } from './sml/cli';
import { wmbusCli } from './wmbus/cli';
import { lorawanPlatformCli } from './lorawan-platform/cli';
import type { SimulatorEntry } from './registry';
import { utilitarianCli } from './utilitarian/cli';

export * from './registry';

/** Each entry keeps its own option type; the CLI only passes parse()'s result back to start(). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySimulator = SimulatorEntry<any>;

export const SIMULATORS: readonly AnySimulator[] = [
  modbusMeterCli,
  utilitarianCli,
  lorawanPlatformCli,
  g13Cli,
  mbusCli,
  iec62056Cli,
  dlmsCli,
  hexCli,
  p1Cli,
  smlCli,
  wmbusCli,
];

export function findSimulator(name: string): AnySimulator | undefined {
  return SIMULATORS.find((s) => s.name === name);
}
