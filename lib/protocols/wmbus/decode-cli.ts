/**
 * `ems-decode wmbus [--key HEX] [--format A|B|none] <hex>`: a wireless M-Bus telegram (hex, an rtl-wmbus line
 * or receiver JSON) -> JSON with link layer, ELL, AFL, transport header, security and every record.
 * The key may also come from EMS_WMBUS_KEY; it is never printed.
 */
import type { DecoderEntry } from '../decoders';
import { parseReceived } from './input';
import type { FrameFormat } from './link';
import { decodeWmbus } from './telegram';
import { wmbusToReadings } from './readings';

const hx = (n: number | undefined, w = 2) => (n === undefined ? undefined : `0x${n.toString(16).toUpperCase().padStart(w, '0')}`);

export function decodeWmbusText(input: string, env: NodeJS.ProcessEnv = process.env): unknown {
  let text = input.trim();
  let key = env.EMS_WMBUS_KEY || undefined;
  let format: FrameFormat | 'auto' = 'auto';
  const take = (flag: string): string | undefined => {
    const m = new RegExp(`(?:^|\\s)${flag}[ =](\\S+)`).exec(text);
    if (!m) return undefined;
    text = (text.slice(0, m.index) + text.slice(m.index + m[0].length)).trim();
    return m[1];
  };
  key = take('--key') ?? key;
  const f = take('--format');
  if (f !== undefined) {
    if (!['A', 'B', 'none', 'auto'].includes(f)) throw new Error(`--format ${JSON.stringify(f)} must be A, B, none or auto`);
    format = f as FrameFormat | 'auto';
  }
  if (text === '') throw new Error('no telegram given');
  const d = decodeWmbus(parseReceived(text).bytes, { key, format });
  return {
    link: { ...d.link, c: hx(d.link.c), deviceType: hx(d.link.deviceType) },
    ell: d.ell && { ...d.ell, ci: hx(d.ell.ci), cc: hx(d.ell.cc) },
    afl: d.afl && { fcl: hx(d.afl.fcl, 4), mcl: hx(d.afl.mcl), keyInfo: d.afl.keyInfo, messageCounter: d.afl.messageCounter, mac: d.afl.mac, messageLength: d.afl.messageLength },
    tpl: {
      ci: hx(d.tpl.ci), header: d.tpl.kind, accessNumber: d.tpl.accessNumber, status: hx(d.tpl.status), configuration: hx(d.tpl.configuration, 4),
      ...(d.tpl.kind === 'long' ? { id: d.tpl.id, manufacturer: d.tpl.manufacturer, version: d.tpl.version, deviceType: hx(d.tpl.deviceType) } : {}),
    },
    meter: d.meter,
    security: d.security,
    records: d.application.records.map((r) => ({
      index: r.index, function: r.function, storage: r.storage, tariff: r.tariff, subunit: r.subunit, quantity: r.quantity,
      description: r.description, unit: r.unit, value: r.value, ...(r.unknown ? { unknown: r.unknown } : {}), raw: r.raw,
    })),
    manufacturerData: d.application.manufacturerData,
    readings: wmbusToReadings(d, { meter: `${d.meter.manufacturer}-${d.meter.id}`, time: Date.now() }),
  };
}

export const WMBUS_DECODER: DecoderEntry = {
  name: 'wmbus',
  description: 'wireless M-Bus / OMS telegram (EN 13757-4): link layer, ELL, AFL, security modes 5 and 7, records',
  argument: 'data',
  help: [
    'Input: a telegram as hex (with or without the link layer CRCs of format A or B), an rtl-wmbus line',
    '(T1;1;1;...;0x...) or receiver JSON ({"telegram":"..."}). Options: --key <32 hex digits> (or EMS_WMBUS_KEY)',
    'for encrypted telegrams (mode 5 AES-CBC, mode 7 with AES-CMAC key derivation, ELL AES-CTR), --format A|B|none.',
    'Output: JSON with link (manufacturer, id, version, device type, frame format), ell, afl, tpl, security',
    '(mode, decrypted, MAC checked), every record and the readings. A CRC error names its block; a wrong key says so.',
    'Example: ems-decode wmbus --key 0102030405060708090A0B0C0D0E0F11 2E44931578563412330' +
      '37A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3   (OMS Annex N gas meter, 28504.27 m3)',
  ].join('\n'),
  decode: (input) => decodeWmbusText(input),
};
