/**
 * The register log of a simulated meter whose profile declares one (ProfileLog): at every interval end
 * of simulated time a record of the log's values is written to the ring, whether or not anyone reads
 * the meter (faults stop answers, not the meter). Recording catches up lazily, in time order, before
 * any read of the model, so records hold the counters as they stood at their interval end.
 */
import { convert } from '../../model/units';
import { logLayout, type LogLayout } from '../../protocols/modbus/log';
import type { Profile, ProfileLog } from '../../protocols/modbus/types';
import type { MeterModel } from './meter-model';
import { quantityFor, type QuantityFn } from './quantities';
import { encodeRaw } from './register-map';

/** Status bit the simulator sets on a record whose interval the meter did not measure whole (the first after start). */
export const INCOMPLETE_BIT = 1;

export interface SimLogRecord { seq: number; time: number; status: number; /** Raw register values (before scale). */ raw: number[] }

export class LogRecorder {
  readonly log: ProfileLog;
  readonly layout: LogLayout;
  private readonly fns: QuantityFn[];
  private readonly intervalMs: number;
  private readonly ring: (SimLogRecord | undefined)[];
  private nextEnd: number;
  private readonly startedAt: number;
  /** Records written (the newest record's sequence number). */
  count = 0;

  constructor(profile: Profile, private readonly model: MeterModel) {
    this.log = profile.log!;
    this.layout = logLayout(profile, this.log);
    this.fns = this.layout.values.map((v) => quantityFor(v.obis, v.name, v.unit));
    this.intervalMs = this.log.intervalSeconds * 1000;
    this.ring = new Array(this.log.capacity);
    this.startedAt = model.now();
    this.nextEnd = (Math.floor(this.startedAt / this.intervalMs) + 1) * this.intervalMs;
  }

  /** Writes every record due up to the model's now (oldest first). */
  catchUp(): void {
    const now = this.model.now();
    // Beyond a full ring the older records would be overwritten anyway: skip them (the counters still integrate).
    const skipTo = now - this.log.capacity * this.intervalMs;
    if (this.nextEnd < skipTo) {
      const skipped = Math.floor((skipTo - this.nextEnd) / this.intervalMs);
      this.count += skipped;
      this.nextEnd += skipped * this.intervalMs;
    }
    while (this.nextEnd <= now) {
      const t = this.nextEnd;
      const snap = this.model.snapshot(t);
      const raw = this.layout.values.map((v, i) => {
        const q = this.fns[i](snap);
        let value = q.value;
        try { value = convert(q.value, q.unit, v.unit); } catch { /* same unit */ }
        return v.enc.type.startsWith('float') ? value / v.scale : Math.round(value / v.scale);
      });
      const seq = ++this.count;
      const status = t - this.intervalMs < this.startedAt ? INCOMPLETE_BIT : 0;
      this.ring[(seq - 1) % this.log.capacity] = { seq, time: t, status, raw };
      this.nextEnd += this.intervalMs;
    }
  }

  /** The records kept, oldest first (what a client reading the log should get). */
  records(): SimLogRecord[] {
    this.catchUp();
    return this.ring.filter((r): r is SimLogRecord => r !== undefined).sort((a, b) => a.seq - b.seq);
  }

  /** True when [address, address + quantity) lies inside the count register or the ring. */
  covers(address: number, quantity: number): boolean {
    const end = address + quantity;
    const ringEnd = this.log.firstRecord + this.log.capacity * this.layout.recordSize;
    return (address >= this.log.countRegister && end <= this.log.countRegister + 2) || (address >= this.log.firstRecord && end <= ringEnd);
  }

  /** The registers of the count or the ring; a read must not straddle the two. */
  read(address: number, quantity: number): Buffer {
    this.catchUp();
    if (address >= this.log.countRegister && address + quantity <= this.log.countRegister + 2) {
      return encodeRaw(this.count, this.layout.timeEnc).subarray((address - this.log.countRegister) * 2, (address - this.log.countRegister + quantity) * 2);
    }
    const size = this.layout.recordSize;
    const first = Math.floor((address - this.log.firstRecord) / size);
    const last = Math.floor((address + quantity - 1 - this.log.firstRecord) / size);
    const parts: Buffer[] = [];
    for (let slot = first; slot <= last; slot++) parts.push(this.encodeSlot(slot));
    const all = Buffer.concat(parts);
    const skip = (address - this.log.firstRecord - first * size) * 2;
    return all.subarray(skip, skip + quantity * 2);
  }

  private encodeSlot(slot: number): Buffer {
    const r = this.ring[slot];
    const out = Buffer.alloc(this.layout.recordSize * 2, 0xff); // an empty slot reads as 0xFFFF
    if (!r) return out;
    encodeRaw(r.time / 1000, this.layout.timeEnc).copy(out, 0);
    if (this.layout.statusOffset !== undefined) encodeRaw(r.status, this.layout.statusEnc).copy(out, this.layout.statusOffset * 2);
    this.layout.values.forEach((v, i) => encodeRaw(r.raw[i], v.enc).copy(out, v.offset * 2));
    return out;
  }
}
