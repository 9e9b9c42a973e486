import fs from 'node:fs';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { normaliseObis, unitInfo } from '../../lib/model';
import { ConsumptionTracker, type ConsumptionOptions, type ConsumptionRecord } from '../../lib/pipeline/consumption';
import { parseDuration } from '../../lib/store/query-params';
import { isValidTimeZone, systemTimeZone } from '../../lib/model/time';

export interface ConsumptionDef extends NodeDef {
  interval: string;
  timeZone: string;
  interpolate: boolean | string;
  rolloverAt: string;
  maxPower: string;
  obis: string;
}

/** Dimensions of cumulative registers: without an OBIS filter only readings in these units are tracked. */
const CUMULATIVE = new Set(['active energy', 'reactive energy', 'apparent energy', 'heat energy', 'volume', 'mass', 'heat cost allocation', 'count']);

/** The state is written at most once per this many ms after a change, and on close. */
export const SAVE_DELAY_MS = 1000;

function optionalPositive(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === null || String(value).trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${field} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

/** Turns the node's configuration into tracker options and the OBIS filter; throws naming the field. */
export function parseConfig(def: Partial<ConsumptionDef>): { options: ConsumptionOptions; obis: Set<string> | null } {
  const options: ConsumptionOptions = {};
  const interval = String(def.interval ?? '').trim();
  if (interval !== '') {
    const ms = parseDuration(interval);
    if (!Number.isFinite(ms)) throw new Error(`interval must be a duration such as "15m", "1h" or "1d" (or empty for one record per step), got ${JSON.stringify(def.interval)}`);
    options.interval = ms;
  }
  const zone = String(def.timeZone ?? '').trim() || systemTimeZone();
  if (!isValidTimeZone(zone)) throw new Error(`timeZone must be an IANA time zone such as "Europe/Berlin", got ${JSON.stringify(def.timeZone)}`);
  options.timeZone = zone;
  options.interpolate = def.interpolate === true || def.interpolate === 'true';
  options.rolloverAt = optionalPositive(def.rolloverAt, 'rolloverAt');
  options.maxPower = optionalPositive(def.maxPower, 'maxPower');
  if (options.rolloverAt === undefined) delete options.rolloverAt;
  if (options.maxPower === undefined) delete options.maxPower;
  let obis: Set<string> | null = null;
  const codes = String(def.obis ?? '').split(/[\s,;]+/).filter(Boolean);
  if (codes.length) {
    obis = new Set(codes.map((c) => {
      try {
        return normaliseObis(c);
      } catch {
        throw new Error(`obis must be a list of OBIS codes such as "1-0:1.8.0,1-0:2.8.0", got ${JSON.stringify(c)}`);
      }
    }));
  }
  return { options, obis };
}

function isCumulativeUnit(unit: unknown): boolean {
  try {
    return typeof unit === 'string' && CUMULATIVE.has(unitInfo(unit).dimension);
  } catch {
    return false;
  }
}

export default function init(RED: NodeAPI): void {
  function Consumption(this: Node, def: ConsumptionDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let options: ConsumptionOptions;
    let filter: Set<string> | null;
    try {
      ({ options, obis: filter } = parseConfig(def));
      new ConsumptionTracker(options); // validates the interval (whole days for a day or longer)
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-consumption.status.bad-config' });
      node.error((err as Error).message);
      return;
    }
    const file = path.join(RED.settings.userDir ?? process.cwd(), 'ems-state', `consumption-${node.id.replace(/[^\w.-]/g, '_')}.json`);
    const tracker = load();
    let timer: NodeJS.Timeout | undefined;
    node.status({});

    function load(): ConsumptionTracker {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') node.warn(`cannot read the saved state ${file}, starting afresh: ${(err as Error).message}`);
        return new ConsumptionTracker(options);
      }
      try {
        return ConsumptionTracker.fromJSON(JSON.parse(text), options);
      } catch (err) {
        node.warn(`ignoring the saved state ${file} (corrupt or made for other settings), starting afresh: ${(err as Error).message}`);
        return new ConsumptionTracker(options);
      }
    }

    /** Writes the state atomically: a temporary file renamed over the old one. */
    function save(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(tracker.toJSON()));
        fs.renameSync(tmp, file);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-consumption.status.save-failed' });
        node.error(new Error(`consumption state not saved to ${file}: ${(err as Error).message}`), { _msgid: RED.util.generateId(), payload: file } as NodeMessage);
      }
    }

    function changed(): void {
      if (!timer) timer = setTimeout(save, SAVE_DELAY_MS);
    }

    function shown(r: ConsumptionRecord): string {
      const end = new Date(r.to).toLocaleString('sv-SE', { timeZone: options.timeZone }).slice(0, 16);
      return `${r.value} ${r.unit} → ${end}`;
    }

    node.on('input', (msg, send, done) => {
      const payload = msg.payload as unknown;
      const many = Array.isArray(payload);
      if (!many && (payload === null || typeof payload !== 'object')) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-consumption.status.error' });
        done(new Error(`payload must be a reading {meter, time, obis, value, unit} or an array of readings, got ${JSON.stringify(payload)}`));
        return;
      }
      const readings = many ? (payload as unknown[]) : [payload];
      const records: ConsumptionRecord[] = [];
      const problems: string[] = [];
      let accepted = 0;
      readings.forEach((r, i) => {
        const x = r as { obis?: unknown; unit?: unknown } | null;
        if (x && typeof x === 'object' && typeof x.obis === 'string') {
          if (filter) {
            let code: string | null = null;
            try { code = normaliseObis(x.obis); } catch { /* the tracker names a bad code */ }
            if (code !== null && !filter.has(code)) return;
          } else if (!isCumulativeUnit(x.unit)) return;
        }
        try {
          records.push(...tracker.push(r as never));
          accepted++;
        } catch (err) {
          problems.push(`${many ? `payload[${i}]` : 'payload'}: ${(err as Error).message}`);
        }
      });
      if (accepted > 0) changed();
      if (records.length > 0) {
        // With an error to report, the records go out in a copy so that Catch gets the input msg unchanged.
        const out = problems.length ? RED.util.cloneMessage(msg) : msg;
        out.payload = records;
        send(out);
        node.status({ fill: 'green', shape: 'dot', text: shown(records[records.length - 1]) });
      }
      if (problems.length) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-consumption.status.error' });
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more refused reading${problems.length > 2 ? 's' : ''})` : '';
        done(new Error(problems[0] + more));
      } else done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (timer) save();
      if (removed) {
        try { fs.rmSync(file, { force: true }); } catch { /* nothing to remove */ }
      }
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-consumption', Consumption);
}
