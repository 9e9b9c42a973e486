/**
 * Push lists that carry bare values: what the customer-port documents of the meter makers say the
 * values mean, as data. Two kinds:
 *   - OBIS-coded lists without scaler_unit (Kamstrup "Kamstrup_V0001", Kaifa "KFM_001" in Sweden):
 *     the scaler and unit per OBIS code (C.D.E; the B channel is ignored) in SCALERS.
 *   - positional lists (Kaifa "KFM_001" in Norway, KFM_001.pdf): no OBIS codes at all, the position
 *     in the structure and its length say which value it is (POSITIONAL).
 * Aidon and the Austrian/Luxembourg lists carry OBIS code, value and scaler_unit: nothing is needed here.
 *
 *   listIdentifier(body) -> 'KFM_001' | 'Kamstrup_V0001' | ... | undefined
 *   listScaler(list, obis) -> [scaler, DLMS unit code] | undefined
 *   positionalValues(body) -> { list, values: [{ obis, data }] } | undefined
 */
import type { DlmsData } from './axdr';

/** Blue Book unit codes used below. */
const W = 27, VAR = 29, WH = 30, VARH = 32, A = 33, V = 35;

type Scaler = [scaler: number, unit: number];

/** Per list identifier: C.D.E -> scaler and unit of a bare value. */
const SCALERS: Record<string, Record<string, Scaler>> = {
  // Kamstrup HAN information sheet (NVE): currents in 10 mA, voltages in V, energies in 10 Wh / 10 varh
  Kamstrup_V0001: {
    '1.7.0': [0, W], '2.7.0': [0, W], '3.7.0': [0, VAR], '4.7.0': [0, VAR],
    '31.7.0': [-2, A], '51.7.0': [-2, A], '71.7.0': [-2, A],
    '32.7.0': [0, V], '52.7.0': [0, V], '72.7.0': [0, V],
    '1.8.0': [1, WH], '2.8.0': [1, WH], '3.8.0': [1, VARH], '4.8.0': [1, VARH],
  },
  // Kaifa KFM_001 (S1001 "Kaifa HAN OBIS codes"): currents in mA, voltages in 0.1 V, energies in Wh / varh
  KFM_001: {
    '1.7.0': [0, W], '2.7.0': [0, W], '3.7.0': [0, VAR], '4.7.0': [0, VAR],
    '31.7.0': [-3, A], '51.7.0': [-3, A], '71.7.0': [-3, A],
    '32.7.0': [-1, V], '52.7.0': [-1, V], '72.7.0': [-1, V],
    '1.8.0': [0, WH], '2.8.0': [0, WH], '3.8.0': [0, VARH], '4.8.0': [0, VARH],
  },
};

const POWERS = ['1-0:1.7.0', '1-0:2.7.0', '1-0:3.7.0', '1-0:4.7.0'];
const ENERGIES = ['0-0:1.0.0', '1-0:1.8.0', '1-0:2.8.0', '1-0:3.8.0', '1-0:4.8.0'];
const IDENTITY = ['1-1:0.2.129', '0-0:96.1.0', '0-0:96.1.7'];
const ONE_PHASE = [...IDENTITY, ...POWERS, '1-0:31.7.0', '1-0:32.7.0'];
const THREE_PHASE = [...IDENTITY, ...POWERS, '1-0:31.7.0', '1-0:51.7.0', '1-0:71.7.0', '1-0:32.7.0', '1-0:52.7.0', '1-0:72.7.0'];

/** Kaifa KFM_001 lists by structure length: list 1 (power only), list 2 and list 3 (hourly, with clock and energies). */
const POSITIONAL: Record<string, Record<number, string[]>> = {
  KFM_001: {
    1: ['1-0:1.7.0'],
    9: ONE_PHASE,
    13: THREE_PHASE,
    14: [...ONE_PHASE, ...ENERGIES],
    18: [...THREE_PHASE, ...ENERGIES],
  },
};

/** A short printable text: a visible-string, or an octet-string of printable ASCII. */
export function printableText(d: DlmsData | undefined): string | undefined {
  if (d?.type === 'visible-string') return d.value.length <= 64 ? d.value : undefined;
  if (d?.type !== 'octet-string' || d.value.length > 64) return undefined;
  return d.value.every((c) => c >= 0x20 && c < 0x7f) ? d.value.toString('latin1') : undefined;
}
const text = printableText;

/**
 * The list version identifier (OBIS 1-x:0.2.129): a text first in the body (Kamstrup, Kaifa in Norway),
 * or after that OBIS code, flat (Kaifa in Sweden) or in an [OBIS, text] structure (Aidon); else undefined.
 */
export function listIdentifier(body: DlmsData): string | undefined {
  if (body.type !== 'structure' && body.type !== 'array') return undefined;
  const [first, second] = body.items;
  const isListObis = (d: DlmsData | undefined) => d?.type === 'octet-string' && d.value.length === 6 && d.value[2] === 0 && d.value[3] === 2 && d.value[4] === 129;
  if (isListObis(first)) return text(second);
  if (first?.type === 'structure' && isListObis(first.items[0])) return text(first.items[1]);
  return first?.type === 'octet-string' && first.value.length === 6 ? undefined : text(first);
}

/** Scaler and unit of a bare value in a known list; undefined when the list or code is not known. */
export function listScaler(list: string | undefined, obis: string): Scaler | undefined {
  if (!list) return undefined;
  const cde = /:(\d+\.\d+\.\d+)/.exec(obis)?.[1];
  return cde ? SCALERS[list]?.[cde] : undefined;
}

/** The values of a positional list (no OBIS codes), each with the OBIS code its position means. */
export function positionalValues(body: DlmsData): { list: string; values: { obis: string; data: DlmsData }[] } | undefined {
  if (body.type !== 'structure') return undefined;
  const items = body.items;
  // Kaifa list 1 is a lone double-long-unsigned, without the list identifier
  const list = items.length === 1 && items[0].type === 'double-long-unsigned' ? 'KFM_001' : text(items[0]);
  const layout = list ? POSITIONAL[list]?.[items.length] : undefined;
  if (!list || !layout) return undefined;
  return { list, values: layout.map((obis, i) => ({ obis, data: items[i] })) };
}
