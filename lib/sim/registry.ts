/**
 * The simulators the ems-sim command can start. Each entry declares its options (for help and
 * node:util parseArgs), turns parsed values into its start options (throwing UsageError naming the
 * option and value), and starts. Adding a simulator = one entry in SIMULATORS (lib/sim/index.ts).
 */

/** A bad command-line option; the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface SimulatorOption {
  /** Long name without dashes, e.g. "port". */
  name: string;
  type: 'string' | 'boolean';
  /** May be given several times (values arrive as an array). */
  multiple?: boolean;
  /** Placeholder in the help, e.g. "PORT". */
  arg?: string;
  description: string;
  /** Default shown in the help (and applied by parse). */
  default?: string;
}

export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface RunningSimulator {
  /** Stops the simulator and releases its sockets. */
  close(): Promise<void>;
  /** One line: what listens where (host:port, units, profiles...). */
  describe(): string;
}

export interface SimulatorEntry<O = unknown> {
  name: string;
  /** One line for `ems-sim list` and the help. */
  description: string;
  options: SimulatorOption[];
  /** Extra help text after the options (examples, formats). */
  help?: string;
  /** Validates parsed values into start options; throws UsageError naming the option and value. */
  parse(values: ParsedValues): O;
  start(options: O): Promise<RunningSimulator>;
  /** Extra lines for `ems-sim list` (e.g. the profiles a meter simulator can serve). */
  list?(values?: ParsedValues): string[];
}

/** Reads a string option (the last one when given several times). */
export function str(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' ? last : undefined;
}

/** Reads a repeatable string option as a list (comma-separated items split too). */
export function list(values: ParsedValues, name: string): string[] {
  const v = values[name];
  const all = (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
  return all.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

/** Parses an integer option within [min, max]; UsageError names the option and the value. */
export function int(name: string, text: string, min: number, max: number, what = 'an integer'): number {
  const n = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: ${JSON.stringify(text)} is not ${what} ${min}..${max}`);
  }
  return n;
}

/** Formats an entry's help. */
export function formatHelp(entry: SimulatorEntry): string {
  const lines = [`Usage: ems-sim ${entry.name} [options]`, '', entry.description, '', 'Options:'];
  const rows = entry.options.map((o) => {
    const left = `  --${o.name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    const right = `${o.description}${o.default !== undefined ? ` (default ${o.default})` : ''}${o.multiple ? ' [repeatable]' : ''}`;
    return [left, right];
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [l, r] of rows) lines.push(l.padEnd(width) + r);
  if (entry.help) lines.push('', entry.help.trimEnd());
  return lines.join('\n') + '\n';
}
