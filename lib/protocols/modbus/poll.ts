import type { Reading } from '../../model/reading';
import type { ModbusBus } from './bus';
import { ModbusError } from './errors';
import { decodeReadings, type ReadPlan, type RegisterSource } from './plan';

export interface PollOptions {
  meter: string;
  unit: number;
  ctRatio?: number;
  vtRatio?: number;
  /** Clock for the reading time (ms); the time is taken when the first block answers. */
  now?: () => number;
}

export interface PollResult {
  readings: Reading[];
  sources: RegisterSource[];
  /** Requests sent for this poll. */
  requests: number;
}

/** A failed poll, naming the meter, unit and the registers that failed. */
export class MeterPollError extends Error {
  constructor(message: string, readonly meter: string, readonly unit: number, override readonly cause: Error) {
    super(message);
    this.name = 'MeterPollError';
  }
}

/** Reads every block of a plan from one unit and decodes the readings. Any failed block fails the poll: no partial, fake or stale values. */
export async function pollMeter(bus: ModbusBus, plan: ReadPlan, opts: PollOptions): Promise<PollResult> {
  const data: Buffer[] = [];
  let time: number | undefined;
  for (const b of plan.blocks) {
    try {
      data.push(await bus.read(opts.unit, b.table, b.start, b.count));
      time ??= (opts.now ?? Date.now)();
    } catch (err) {
      const e = err as Error;
      const where = `${b.table} registers ${b.start}..${b.start + b.count - 1}`;
      const what = e instanceof ModbusError && e.code === 'backoff' ? e.message : `${where}: ${e.message}`;
      throw new MeterPollError(`meter "${opts.meter}" unit ${opts.unit} (${plan.profile}): ${what}`, opts.meter, opts.unit, e);
    }
  }
  const { readings, sources } = decodeReadings(plan, data, { meter: opts.meter, time: time ?? Date.now(), ctRatio: opts.ctRatio, vtRatio: opts.vtRatio });
  return { readings, sources, requests: plan.blocks.length };
}
