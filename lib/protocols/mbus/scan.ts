/**
 * Finding the meters on a bus. Primary scan: SND_NKE to 0..250, then REQ_UD2 to each address that
 * answered, for its identity. Secondary scan: select with wildcard masks; an ACK = one slave (read
 * its identity at 0xFD); a garbled answer = several (a collision): fix the next digit 0..9 and
 * search each narrower mask. Both report progress as they go (a scan of a slow bus takes minutes).
 */
import { ADDRESS, type SecondaryAddress } from './frame';
import { MbusError, secondaryAddressText, type Answer, type MbusMaster } from './master';
import type { MbusTelegram } from './types';

export interface FoundMeter {
  /** Primary address (primary scan), or null (secondary scan: read it by `secondary`). */
  primary: number | null;
  /** 16 hex digits: id, manufacturer code, version, medium; usable as a meter address. */
  secondary: string;
  id: string;
  manufacturer: string;
  version: number;
  medium: number;
  mediumName: string;
}

export interface ScanProgress {
  mode: 'primary' | 'secondary';
  /** Requests sent so far. */
  probes: number;
  /** Primary: the address being probed; secondary: the mask being tried (F = wildcard). */
  at: string;
  /** Primary scan only: addresses done out of the total. */
  done?: number;
  total?: number;
  found: number;
  /** Addresses or masks where several slaves answered at once and could not be told apart. */
  collisions: string[];
}

export interface ScanOptions {
  /** Called after every probe. */
  onProgress?: (p: ScanProgress) => void;
  /** Attempts per probe after no answer (default 0: a scan is slow enough). */
  retries?: number;
  /** Stops the scan early when it returns true (checked between probes). */
  aborted?: () => boolean;
}

function identity(t: MbusTelegram, primary: number | null): FoundMeter {
  const h = t.header;
  if (!h) throw new MbusError('frame', `the meter at ${primary ?? 'the selected address'} answered without a long header (CI 0x${t.ci.toString(16)}): no identity`);
  return { primary, secondary: secondaryAddressText(h), id: h.id, manufacturer: h.manufacturer, version: h.version, medium: h.medium, mediumName: h.mediumName };
}

function checkAbort(o: ScanOptions): void {
  if (o.aborted?.()) throw new MbusError('closed', 'scan aborted');
}

/** Pings primary addresses `from`..`to` (default 0..250) and reads the identity of each that answers. */
export async function scanPrimary(master: MbusMaster, o: ScanOptions & { from?: number; to?: number } = {}): Promise<{ meters: FoundMeter[]; collisions: string[]; probes: number }> {
  const from = o.from ?? 0, to = o.to ?? ADDRESS.MAX_PRIMARY;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > ADDRESS.MAX_PRIMARY || from > to) {
    throw new RangeError(`primary scan range ${from}..${to} must lie within 0..${ADDRESS.MAX_PRIMARY}`);
  }
  const meters: FoundMeter[] = [];
  const collisions: string[] = [];
  let probes = 0;
  const total = to - from + 1;
  for (let a = from; a <= to; a++) {
    checkAbort(o);
    const answer = await master.sndNke(a, o.retries ?? 0);
    probes++;
    if (answer.kind === 'garbled') collisions.push(String(a));
    else if (answer.kind === 'frame') {
      try {
        const r = await master.run(() => master.requestUd2(a));
        probes += r.frames.length;
        meters.push(identity(r.telegrams[0], a));
      } catch (err) {
        if (err instanceof MbusError && err.code === 'collision') collisions.push(String(a));
        else if (!(err instanceof MbusError && err.code === 'timeout')) throw err;
      }
    }
    o.onProgress?.({ mode: 'primary', probes, at: String(a), done: a - from + 1, total, found: meters.length, collisions: [...collisions] });
  }
  return { meters, collisions, probes };
}

const WILD: SecondaryAddress = { id: 'FFFFFFFF', manufacturer: null, version: null, medium: null };

/**
 * Secondary wildcard search. Starts from `mask` (default all wildcards) and narrows digit by digit
 * from the left wherever several slaves answer, so it finds every slave whose ids differ.
 */
export async function scanSecondary(master: MbusMaster, o: ScanOptions & { mask?: SecondaryAddress } = {}): Promise<{ meters: FoundMeter[]; collisions: string[]; probes: number }> {
  const meters: FoundMeter[] = [];
  const collisions: string[] = [];
  let probes = 0;
  const report = (at: string) => o.onProgress?.({ mode: 'secondary', probes, at, found: meters.length, collisions: [...collisions] });

  const probe = async (mask: SecondaryAddress): Promise<Answer> => {
    checkAbort(o);
    const a = await master.select(mask, o.retries ?? 0);
    probes++;
    return a;
  };

  /** Reads the identity of the slave now selected. */
  const readSelected = async (mask: SecondaryAddress): Promise<'ok' | 'collision'> => {
    try {
      const r = await master.run(() => master.requestUd2(ADDRESS.SECONDARY));
      probes += r.frames.length;
      const m = identity(r.telegrams[0], null);
      if (!meters.some((x) => x.secondary === m.secondary)) meters.push(m);
      return 'ok';
    } catch (err) {
      // Two slaves with the same id but different manufacturer/medium ACK alike; their data collide.
      if (err instanceof MbusError && err.code === 'collision') return 'collision';
      if (err instanceof MbusError && err.code === 'timeout') { collisions.push(mask.id); return 'ok'; }
      throw err;
    }
  };

  const search = async (mask: SecondaryAddress): Promise<void> => {
    const answer = await probe(mask);
    if (answer.kind === 'none') { report(mask.id); return; }
    if (answer.kind === 'frame') {
      if ((await readSelected(mask)) === 'ok') { report(mask.id); return; }
    }
    // Several slaves match: fix the leftmost wildcard digit.
    const pos = mask.id.toUpperCase().indexOf('F');
    report(mask.id);
    if (pos < 0) { collisions.push(mask.id); return; }
    for (let d = 0; d <= 9; d++) {
      await search({ ...mask, id: mask.id.slice(0, pos) + String(d) + mask.id.slice(pos + 1) });
    }
  };

  await search(o.mask ?? WILD);
  return { meters, collisions, probes };
}
