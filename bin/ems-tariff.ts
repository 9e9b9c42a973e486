#!/usr/bin/env node
/**
 * ems-tariff: checks a tariff JSON file and prices interval consumption from CSV with it.
 *   ems-tariff check T.json
 *   ems-tariff price --tariff T.json [--csv FILE|-] [--separator auto|,|;|tab] [--decimal-comma]
 *                    [--max-rows N] [--from TIME] [--to TIME] [--format json|table]
 * Exit 0 ok; 1 invalid tariff or data the tariff cannot price; 2 bad options or CSV (the message
 * names the option, or the line, column and value).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { describeTariff, formatTariffDescription } from '../lib/tariff/describe';
import { localIso } from '../lib/tariff/calendar';
import { CSV_MAX_BYTES, CSV_MAX_ROWS, CsvError, toCsvSeparator } from '../lib/csv';
import { parseIntervalsCsvRows, parseTime } from '../lib/tariff/csv';
import { PriceError, priceConsumption } from '../lib/tariff/price';
import type { PriceLine, PriceResult, Tariff } from '../lib/tariff/types';
import { TariffValidationError, validateTariff } from '../lib/tariff/validate';

class UsageError extends Error {}

const HELP = [
  'Usage: ems-tariff check T.json',
  '         validate a tariff and print its versions, seasons, day types, bands and rates',
  '       ems-tariff price --tariff T.json [--csv FILE|-] [--separator auto|,|;|tab] [--decimal-comma]',
  '                        [--max-rows N] [--from TIME] [--to TIME] [--format json|table]',
  '         price interval consumption; CSV header start,end,quantity,unit[,obis][,meter][,energyType]',
  '         (stdin when --csv is absent or -); quoted fields, a BOM and # comment lines are fine;',
  '         --separator auto (default) takes , ; or tab from the header line; --decimal-comma reads',
  `         quantities such as 1.234,56 (European spreadsheets); --max-rows (default ${CSV_MAX_ROWS}) bounds the rows;`,
  '         TIME is ISO 8601 with offset or Z, or local "YYYY-MM-DD HH:MM[:SS]" in the tariff\'s zone;',
  '         --format table (default) or json',
  '',
].join('\n');

function readTariff(file: string, option: string): Tariff {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${option}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${option}: ${file} is not JSON: ${(e as Error).message}`);
  }
  return validateTariff(json);
}

type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>, positionals: boolean): Parsed {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: positionals }) as Parsed;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see ems-tariff --help)`);
  }
}

function check(args: string[]): number {
  const { positionals } = parse(args, {}, true);
  if (positionals.length !== 1) throw new UsageError('check takes one tariff file: ems-tariff check T.json');
  const tariff = readTariff(positionals[0], 'check');
  process.stdout.write(`${positionals[0]}: valid\n${formatTariffDescription(describeTariff(tariff))}\n`);
  return 0;
}

function table(result: PriceResult, zone: string): string {
  const day = (t: number) => localIso(t, zone).slice(0, 10);
  const detail = (l: PriceLine) => [l.season, l.period, l.tier !== undefined ? `tier ${l.tier}` : undefined, l.register].filter(Boolean).join(' ');
  const rows = [...result.lines, ...result.taxes].map((l) => [
    l.kind, l.charge, `${day(l.cycleFrom)}..${day(l.cycleTo)}`, detail(l), `${l.quantity} ${l.unit}`, l.rate, l.amount, l.note ?? '',
  ]);
  const head = ['kind', 'charge', 'cycle', 'detail', 'quantity', 'rate', `amount ${result.currency}`, 'note'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const right = new Set([4, 5, 6]);
  const fmt = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [fmt(head), ...rows.slice(0, result.lines.length).map(fmt)];
  const w = widths.slice(0, 7).reduce((a, b) => a + b + 2, 0) - 2;
  out.push('-'.repeat(w), `${'subtotal'.padEnd(w - result.subtotal.length)}${result.subtotal}`);
  out.push(...rows.slice(result.lines.length).map(fmt));
  out.push(`${'total'.padEnd(w - result.total.length)}${result.total}`);
  for (const q of result.quantities) out.push(`${q.energyType}: ${q.quantity} ${q.unit}`);
  for (const warning of result.warnings) out.push(`warning: ${warning}`);
  return out.join('\n') + '\n';
}

function price(args: string[]): number {
  const { values } = parse(args, {
    tariff: { type: 'string' }, csv: { type: 'string' }, separator: { type: 'string' }, 'decimal-comma': { type: 'boolean' }, 'max-rows': { type: 'string' },
    from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' },
  }, false);
  if (!values.tariff) throw new UsageError('--tariff FILE is required (see ems-tariff --help)');
  const format = (values.format as string | undefined) ?? 'table';
  if (format !== 'json' && format !== 'table') throw new UsageError(`--format must be json or table, got ${JSON.stringify(format)}`);
  let separator;
  try {
    separator = toCsvSeparator(values.separator, '--separator');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const maxRowsText = values['max-rows'] as string | undefined;
  if (maxRowsText !== undefined && !/^[1-9]\d*$/.test(maxRowsText)) throw new UsageError(`--max-rows must be a whole number > 0, got ${JSON.stringify(maxRowsText)}`);
  const maxRows = maxRowsText === undefined ? CSV_MAX_ROWS : Number(maxRowsText);
  const maxBytes = Math.max(CSV_MAX_BYTES, maxRows * 128); // room for 128 bytes a row
  const tariff = readTariff(values.tariff as string, '--tariff');
  const time = (name: 'from' | 'to') => {
    const v = values[name] as string | undefined;
    if (v === undefined) return undefined;
    const t = parseTime(v, tariff.timeZone);
    if (t === undefined) throw new UsageError(`--${name}: expected an ISO time with offset or "YYYY-MM-DD HH:MM[:SS]", got ${JSON.stringify(v)}`);
    return t;
  };
  const from = time('from');
  const to = time('to');
  const csvFile = (values.csv as string | undefined) ?? '-';
  let text: string;
  try {
    text = fs.readFileSync(csvFile === '-' ? 0 : csvFile, 'utf8');
  } catch (e) {
    throw new UsageError(`--csv: cannot read ${csvFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let parsed;
  try {
    parsed = parseIntervalsCsvRows(text, tariff.timeZone, { separator, decimalComma: values['decimal-comma'] === true, maxRows, maxBytes });
  } catch (e) {
    if (e instanceof CsvError) throw new UsageError(`${csvFile === '-' ? 'stdin' : csvFile}: ${e.message}`);
    throw e;
  }
  let result: PriceResult;
  try {
    result = priceConsumption(tariff, parsed.intervals, { from, to });
  } catch (e) {
    if (e instanceof PriceError) throw new PriceError(e.message.replace(/^interval (\d+)/, (_, i: string) => `line ${parsed.rows[Number(i)]}`));
    throw e;
  }
  process.stdout.write(format === 'json' ? JSON.stringify(result, null, 2) + '\n' : table(result, tariff.timeZone));
  return 0;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'check') return check(rest);
  if (command === 'price') return price(rest);
  process.stderr.write(HELP);
  if (command === undefined) return 2;
  throw new UsageError(`unknown command ${JSON.stringify(command)} (check or price)`);
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`ems-tariff: ${e.message}\n`);
    process.exitCode = 2;
  } else if (e instanceof TariffValidationError) {
    process.stderr.write(`ems-tariff: invalid tariff:\n${e.problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`ems-tariff: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
