/**
 * POST /gateway/execute (6.3.16): read one COSEM object (class 3 register) from up to 5 meters.
 * The manual names only 1.0.32.7.0.255 (VOLTAGE_L1) and 1.0.33.7.0.255 (POWER_FACTOR_L1); the other
 * codes are the standard IEC 62056-61 ones (digest 5.4, "not from the manual").
 */
import type { SimMeter } from '../meter';
import { DES, bodyObj, fail, isInt, ok, type Ctx, type Reply } from '../reply';

type Read = (m: SimMeter, now: number) => [string, string] | undefined;

const inst = (line: string, key: string): Read => (m, now) => m.instrument(now)[line]?.[key];
const energy = (type: 'active' | 'reactive' | 'apparent', dir: string, key: string): Read => (m, now) => m.energy(type, now)[dir]?.[key];
const power = (kind: string, key: string): Read => (m, now) => m.power(now)[kind]?.[key];

/** "A.B.C.D.E.F" -> reader. */
export const OBIS_READERS: Record<string, Read> = {
  '1.0.32.7.0.255': inst('l1', 'voltage'), '1.0.52.7.0.255': inst('l2', 'voltage'), '1.0.72.7.0.255': inst('l3', 'voltage'),
  '1.0.31.7.0.255': inst('l1', 'current'), '1.0.51.7.0.255': inst('l2', 'current'), '1.0.71.7.0.255': inst('l3', 'current'),
  '1.0.91.7.0.255': inst('neutral', 'current'),
  '1.0.33.7.0.255': inst('l1', 'powerfactor'), '1.0.53.7.0.255': inst('l2', 'powerfactor'), '1.0.73.7.0.255': inst('l3', 'powerfactor'),
  '1.0.13.7.0.255': inst('total', 'powerfactor'), '1.0.14.7.0.255': inst('frequency', 'frequency'),
  '1.0.1.7.0.255': power('active', 'total'), '1.0.21.7.0.255': power('active', 'l1'), '1.0.41.7.0.255': power('active', 'l2'), '1.0.61.7.0.255': power('active', 'l3'),
  '1.0.3.7.0.255': power('reactive', 'total'), '1.0.9.7.0.255': power('apparent', 'total'),
  '1.0.1.8.0.255': energy('active', 'importenergy', 'total'), '1.0.2.8.0.255': energy('active', 'exportenergy', 'total'),
  '1.0.1.8.1.255': energy('active', 'importenergy', 't1'), '1.0.1.8.2.255': energy('active', 'importenergy', 't2'),
  '1.0.1.8.3.255': energy('active', 'importenergy', 't3'), '1.0.1.8.4.255': energy('active', 'importenergy', 't4'),
  '1.0.2.8.1.255': energy('active', 'exportenergy', 't1'), '1.0.2.8.2.255': energy('active', 'exportenergy', 't2'),
  '1.0.2.8.3.255': energy('active', 'exportenergy', 't3'), '1.0.2.8.4.255': energy('active', 'exportenergy', 't4'),
  '1.0.21.8.0.255': energy('active', 'importenergy', 'l1'), '1.0.41.8.0.255': energy('active', 'importenergy', 'l2'), '1.0.61.8.0.255': energy('active', 'importenergy', 'l3'),
  '1.0.3.8.0.255': energy('reactive', 'importenergy', 'total'), '1.0.4.8.0.255': energy('reactive', 'exportenergy', 'total'),
  '1.0.9.8.0.255': energy('apparent', 'importenergy', 'total'), '1.0.10.8.0.255': energy('apparent', 'exportenergy', 'total'),
};

/** Accepts [1,0,32,7,0,255] or "1.0.32.7.0.255" / "1-0:32.7.0.255" (String[23]). */
function obisKey(v: unknown): string | undefined {
  if (Array.isArray(v) && v.length === 6 && v.every((x) => isInt(x) && x >= 0 && x <= 255)) return v.join('.');
  if (typeof v === 'string') {
    const parts = v.split(/[.\-:*]/).filter(Boolean);
    if (parts.length === 6 && parts.every((p) => /^\d{1,3}$/.test(p))) return parts.map(Number).join('.');
  }
  return undefined;
}

export function execute(ctx: Ctx): Reply {
  const b = bodyObj(ctx);
  const devices = b.devices;
  if (!Array.isArray(devices) || devices.length === 0 || devices.length > 5 || !devices.every((d) => typeof d === 'string')) fail(500, DES.EXECUTE);
  const key = obisKey(b.obis);
  const attrs = b.attributes;
  // One interface class per call; only class 3 (register) is readable here.
  if (!key || b.classid !== 3 || !Array.isArray(attrs) || !attrs.includes(2) || !attrs.every((a) => a === 2 || a === 3)) fail(500, DES.EXECUTE);
  const read = OBIS_READERS[key!];
  if (!read) fail(500, DES.EXECUTE);
  const out: Record<string, string[]> = {};
  for (const serial of devices as string[]) {
    const m = ctx.gw.meter(serial);
    if (!m || !m.registered || m.spec.offline || m.water || ctx.gw.accessOf(ctx.user, serial) === 'none') fail(500, DES.EXECUTE);
    const v = read(m!, ctx.gw.clock() + m!.clockOffset);
    if (!v) fail(500, DES.EXECUTE);
    out[serial] = (attrs as number[]).includes(3) ? [v![0], v![1]] : [v![0]];
  }
  return ok(out);
}
