#!/usr/bin/env node
/**
 * ems-decode: decodes a telegram or readout by hand and prints it as JSON.
 *   ems-decode <protocol> [data...|file]    input from the arguments (or the file), else from stdin
 * Exit status: 0 decoded, 1 the input does not decode (the message names offset and reason), 2 bad usage.
 */
import fs from 'node:fs';
import { DECODERS, findDecoder, type DecoderEntry } from '../lib/protocols/decoders';

function mainHelp(): string {
  const width = Math.max(8, ...DECODERS.map((d) => d.name.length)) + 2;
  return [
    'Usage: ems-decode <protocol> [input]   decode and print JSON (input from stdin when not given)',
    '       ems-decode <protocol> --help    the input it takes',
    '',
    'Protocols:',
    ...DECODERS.map((d) => `  ${d.name.padEnd(width)}${d.description}`),
    '',
  ].join('\n');
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('no input: give it as an argument or pipe it to stdin');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

class UsageError extends Error {}

async function input(entry: DecoderEntry, args: string[]): Promise<string> {
  if (args.length === 0) return readStdin();
  if (entry.argument === 'data') return args.join(' ');
  if (args.length > 1) throw new UsageError(`ems-decode ${entry.name} takes one file, got ${args.length} arguments`);
  try {
    return fs.readFileSync(args[0], 'latin1');
  } catch (e) {
    throw new UsageError(`cannot read ${JSON.stringify(args[0])}: ${(e as Error).message}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const entry = findDecoder(name);
  if (!entry) throw new UsageError(`unknown protocol ${JSON.stringify(name)} (available: ${DECODERS.map((d) => d.name).join(', ') || 'none'})`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ems-decode ${entry.name} [${entry.argument === 'data' ? 'data' : 'file'}]\n\n${entry.description}\n\n${entry.help.trimEnd()}\n`);
    return 0;
  }
  const text = await input(entry, rest);
  let decoded: unknown;
  try {
    decoded = entry.decode(text);
  } catch (e) {
    process.stderr.write(`ems-decode ${entry.name}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(JSON.stringify(decoded, null, 2) + '\n');
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`ems-decode: ${(e as Error).message}\n`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
});
