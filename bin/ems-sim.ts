#!/usr/bin/env node
/**
 * ems-sim: starts one of the suite's device/API simulators from the command line.
 *   ems-sim list | ems-sim --help | ems-sim <simulator> --help | ems-sim <simulator> [options]
 * Bad options exit with status 2; SIGINT/SIGTERM close the simulator and exit 0.
 */
import { parseArgs } from 'node:util';
import { findSimulator, formatHelp, SIMULATORS, UsageError, type ParsedValues, type SimulatorEntry } from '../lib/sim';

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

function mainHelp(): string {
  const width = Math.max(...SIMULATORS.map((s) => s.name.length)) + 2;
  return [
    'Usage: ems-sim <simulator> [options]    start a simulator',
    '       ems-sim <simulator> --help       its options',
    '       ems-sim list [--profile-dir DIR] the simulators and the profiles they can serve',
    '',
    'Simulators:',
    ...SIMULATORS.map((s) => `  ${s.name.padEnd(width)}${s.description}`),
    '',
  ].join('\n');
}

function parse(entry: SimulatorEntry<unknown>, args: string[]): ParsedValues & { help?: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const o of entry.options) options[o.name] = o.multiple ? { type: o.type, multiple: true } : { type: o.type };
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as ParsedValues & { help?: boolean };
  } catch (e) {
    // parseArgs messages name the option ("Unknown option '--x'", "Option '--port <value>' argument missing").
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see ems-sim ${entry.name} --help)`);
  }
}

function list(args: string[]): void {
  let values: ParsedValues = {};
  try {
    values = parseArgs({ args, options: { 'profile-dir': { type: 'string', multiple: true } }, strict: true }).values as ParsedValues;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (ems-sim list takes only --profile-dir DIR)`);
  }
  const lines: string[] = [];
  for (const s of SIMULATORS) {
    lines.push(`${s.name}: ${s.description}`);
    if (s.list) lines.push(...s.list(values));
  }
  out(lines.join('\n') + '\n');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    err(mainHelp());
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    out(mainHelp());
    return 0;
  }
  if (command === 'list') {
    list(rest);
    return 0;
  }
  const entry = findSimulator(command);
  if (!entry) throw new UsageError(`unknown simulator ${JSON.stringify(command)} (available: ${SIMULATORS.map((s) => s.name).join(', ')}; see ems-sim --help)`);
  const values = parse(entry, rest);
  if (values.help) {
    out(formatHelp(entry));
    return 0;
  }
  const options = entry.parse(values);
  const running = await entry.start(options);
  out(running.describe() + '\n');
  await new Promise<void>((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      running.close().then(() => {
        err(`ems-sim: ${signal}, closed\n`);
        resolve();
      }, (e: Error) => {
        err(`ems-sim: error while closing: ${e.message}\n`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    if (e instanceof UsageError) {
      err(`ems-sim: ${e.message}\n`);
      process.exit(2);
    }
    err(`ems-sim: ${e.message}\n`);
    process.exit(1);
  },
);
