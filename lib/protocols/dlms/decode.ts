/**
 * Inspection of whatever a user pastes: an HDLC frame (or several, segments joined), a wrapper PDU,
 * DLMS carried in M-Bus long frames (the customer port of Austrian meters), or a bare APDU. Returns a
 * JSON-safe structure: transport layer, APDU (decrypted when keys are given), and the OBIS values a push
 * telegram carries. Used by `ems-decode dlms` and by tests; throws DlmsDecodeError only.
 *
 *   inspect(bytes, { keys, systemTitle }) -> Inspection
 *   obisValues(data) -> [{ obis, value, scaler?, unit?, symbol? }]   (obis / value / scaler-unit triples)
 */
import { DlmsDecodeError } from './errors';
import { type DlmsData, dataNumber, dataToJson, dateTimeToEpochMs, decodeDateTime, looksLikeDateTime } from './axdr';
import { type Apdu, type ApduOptions, decodeApdu, innermost } from './apdu';
import { type HdlcFrame, decodeFrame, formatAddress, splitFrames, splitLlc } from './hdlc';
import { decodeWrapper } from './wrapper';
import { MECHANISMS, APPLICATION_CONTEXTS, ASSOCIATION_RESULTS, conformanceNames } from './acse';
import { canonicalObis, obisFromBytes, scaled } from './units';
import { resultName } from './xdlms';

export interface ObisValue {
  obis: string;
  value: number | string;
  scaler?: number;
  /** The project's unit name when known, else the DLMS symbol. */
  unit?: string;
}

export interface Inspection {
  transport: 'hdlc' | 'wrapper' | 'mbus' | 'apdu';
  hdlc?: unknown[];
  wrapper?: { source: number; destination: number; length: number };
  mbus?: unknown[];
  llc?: string;
  apdu?: unknown;
  values?: ObisValue[];
}

export function inspect(bytes: Buffer, o: ApduOptions = {}): Inspection {
  if (bytes.length === 0) throw new DlmsDecodeError('no bytes given', -1, 'truncated');
  if (bytes[0] === 0x7e && bytes.length > 1 && (bytes[1] & 0xf0) === 0xa0) return inspectHdlc(bytes, o);
  if (bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 1 && bytes.readUInt16BE(6) === bytes.length - 8) {
    const w = decodeWrapper(bytes);
    return { transport: 'wrapper', wrapper: { source: w.source, destination: w.destination, length: w.apdu.length }, ...apduPart(w.apdu, o) };
  }
  if (bytes[0] === 0x68 && bytes.length > 6 && bytes[3] === 0x68) return inspectMbus(bytes, o);
  return { transport: 'apdu', ...apduPart(bytes, o) };
}

function inspectHdlc(bytes: Buffer, o: ApduOptions): Inspection {
  const { frames, rest, skipped } = splitFrames(bytes);
  if (!frames.length) throw new DlmsDecodeError('no whole HDLC frame (7E A_ length ... 7E) found', 0, 'truncated');
  if (rest.length > 1 || skipped) throw new DlmsDecodeError(`${rest.length + skipped} bytes outside HDLC frames`, bytes.length - rest.length);
  const decoded: HdlcFrame[] = frames.map((f) => decodeFrame(f));
  const info = Buffer.concat(decoded.map((f) => f.info));
  const view = decoded.map((f) => ({
    destination: formatAddress(f.destination), source: formatAddress(f.source), control: f.control, segmented: f.segmented, infoLength: f.info.length,
  }));
  if (decoded[decoded.length - 1].segmented) return { transport: 'hdlc', hdlc: view, apdu: { incomplete: true, bytes: info.toString('hex').toUpperCase() } };
  const kind = decoded[0].control.kind;
  if (kind !== 'I' && kind !== 'UI') return { transport: 'hdlc', hdlc: view, ...(info.length ? { apdu: { parameters: info.toString('hex').toUpperCase() } } : {}) };
  const { llc, apdu } = splitLlc(info);
  return { transport: 'hdlc', hdlc: view, llc, ...(apdu.length ? apduPart(apdu, o) : {}) };
}

/** DLMS in M-Bus long frames: 68 L L 68 C A CI STSAP DTSAP data CS 16; CI bit 4 = last segment, low nibble = sequence. */
function inspectMbus(bytes: Buffer, o: ApduOptions): Inspection {
  const frames: unknown[] = [];
  const parts: Buffer[] = [];
  let p = 0, last = false;
  while (p < bytes.length) {
    if (bytes.length - p < 6 || bytes[p] !== 0x68 || bytes[p + 3] !== 0x68 || bytes[p + 1] !== bytes[p + 2]) throw new DlmsDecodeError('M-Bus long frame header 68 L L 68 expected', p);
    const l = bytes[p + 1];
    if (bytes.length - p < l + 6) throw new DlmsDecodeError(`M-Bus frame announces ${l} bytes, ${bytes.length - p - 6} follow`, p + 1, 'truncated');
    if (l < 5) throw new DlmsDecodeError(`M-Bus frame of ${l} bytes has no room for C, A, CI and TSAPs`, p + 1);
    let sum = 0;
    for (let i = p + 4; i < p + 4 + l; i++) sum = (sum + bytes[i]) & 0xff;
    if (sum !== bytes[p + 4 + l]) throw new DlmsDecodeError(`M-Bus checksum 0x${bytes[p + 4 + l].toString(16)} does not match (0x${sum.toString(16)})`, p + 4 + l, 'checksum');
    if (bytes[p + 5 + l] !== 0x16) throw new DlmsDecodeError('M-Bus frame does not end with 16', p + 5 + l);
    const ci = bytes[p + 6];
    if (parts.length !== (ci & 0x0f)) throw new DlmsDecodeError(`M-Bus segment ${ci & 0x0f} where ${parts.length} was expected`, p + 6);
    last = (ci & 0x10) !== 0;
    frames.push({ c: bytes[p + 4], a: bytes[p + 5], ci, sourceTsap: bytes[p + 7], destinationTsap: bytes[p + 8], segment: ci & 0x0f, last, length: l - 5 });
    parts.push(bytes.subarray(p + 9, p + 4 + l));
    p += l + 6;
    if (last) break;
  }
  if (p < bytes.length) throw new DlmsDecodeError(`${bytes.length - p} bytes after the last M-Bus segment`, p);
  const apdu = Buffer.concat(parts);
  if (!last && frames.length > 1) return { transport: 'mbus', mbus: frames, apdu: { incomplete: true, bytes: apdu.toString('hex').toUpperCase() } };
  return { transport: 'mbus', mbus: frames, ...apduPart(apdu, o) };
}

function apduPart(bytes: Buffer, o: ApduOptions): Pick<Inspection, 'apdu' | 'values'> {
  const apdu = decodeApdu(bytes, o);
  const inner = innermost(apdu);
  const values = inner.type === 'data-notification' ? obisValues(inner.body) : undefined;
  return { apdu: apduToJson(apdu), ...(values && values.length ? { values } : {}) };
}

const SERVICE_ERROR_SERVICES: Record<number, string> = { 1: 'initiate', 2: 'get-status', 3: 'get-name-list', 4: 'get-variable-attribute', 5: 'read', 6: 'write', 7: 'get-data-set-attribute', 8: 'get-ti-attribute', 9: 'change-scope', 10: 'start', 11: 'stop', 12: 'resume', 13: 'make-usable', 14: 'initiate-load', 15: 'load-segment', 16: 'terminate-load', 17: 'initiate-upload', 18: 'upload-segment', 19: 'terminate-upload' };
const SERVICE_ERROR_CLASSES: Record<number, string> = { 0: 'application-reference', 1: 'hardware-resource', 2: 'vde-state-error', 3: 'service', 4: 'definition', 5: 'access', 6: 'initiate', 7: 'load-data-set', 8: 'change-scope', 9: 'task', 10: 'other' };
const INITIATE_ERRORS: Record<number, string> = { 0: 'other', 1: 'dlms-version-too-low', 2: 'incompatible-conformance', 3: 'pdu-size-too-short', 4: 'refused-by-the-VDE-handler' };

/** A JSON view of an APDU: buffers as hex, data as plain values, names for codes; LLS passwords shown by length only. */
export function apduToJson(a: Apdu): unknown {
  const hex = (b?: Buffer) => b?.toString('hex').toUpperCase();
  switch (a.type) {
    case 'ciphered':
      return { type: a.name, systemTitle: hex(a.systemTitle), securityControl: `0x${a.securityControl.toString(16).padStart(2, '0')}`, invocationCounter: a.invocationCounter,
        ...(a.plaintext ? { plaintext: hex(a.plaintext), decrypted: a.inner && apduToJson(a.inner) } : { decrypted: false }) };
    case 'aarq': case 'aare': {
      const secret = a.type === 'aarq' && a.mechanism === 1;
      return {
        type: a.type, applicationContext: APPLICATION_CONTEXTS[a.applicationContext] ?? a.applicationContext,
        ...(a.type === 'aare' ? { result: ASSOCIATION_RESULTS[a.result] ?? a.result, diagnostic: a.diagnostic, respondingApTitle: hex(a.respondingApTitle) } : { callingApTitle: hex(a.callingApTitle) }),
        mechanism: a.mechanism === undefined ? undefined : MECHANISMS[a.mechanism] ?? a.mechanism,
        authenticationValue: a.authenticationValue && (secret ? `(password, ${a.authenticationValue.length} bytes)` : hex(a.authenticationValue)),
        initiate: a.initiate && ('type' in a.initiate && a.initiate.type === 'ciphered' ? apduToJson(a.initiate) : apduToJson(a.initiate as Apdu)),
      };
    }
    case 'confirmed-service-error':
      return { type: a.type, service: SERVICE_ERROR_SERVICES[a.service] ?? a.service, errorClass: SERVICE_ERROR_CLASSES[a.errorClass] ?? a.errorClass,
        error: a.errorClass === 6 ? INITIATE_ERRORS[a.error] ?? a.error : a.error };
    case 'rlrq': case 'rlre': return { type: a.type, reason: a.reason, userInformation: hex(a.userInformation) };
    case 'initiate-request': case 'initiate-response':
      return { ...a, dedicatedKey: a.type === 'initiate-request' && a.dedicatedKey ? `(${a.dedicatedKey.length} bytes)` : undefined, conformance: conformanceNames(a.conformance), conformanceBlock: `0x${a.conformance.toString(16).padStart(6, '0')}` };
    default:
      return plain(a);
  }
}

function plain(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (Buffer.isBuffer(v)) return v.toString('hex').toUpperCase();
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && ('items' in o || 'value' in o || o.type === 'null-data') && !('form' in o)) return dataToJson(o as unknown as DlmsData);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (k === 'error' && typeof x === 'number') out[k] = resultName(x);
      else if (k === 'result' && typeof x === 'number') out[k] = resultName(x);
      else out[k] = plain(x);
    }
    return out;
  }
  return v;
}

const isObis = (d: DlmsData | undefined): boolean => d?.type === 'octet-string' && d.value.length === 6;
const octets = (d: DlmsData): Buffer => (d as { value: Buffer }).value;
const scalerUnit = (d: DlmsData | undefined): [number, number] | undefined => {
  if (d?.type !== 'structure' || d.items.length !== 2) return undefined;
  const [s, u] = d.items;
  return s.type === 'integer' && u.type === 'enum' ? [s.value, u.value] : undefined;
};

/**
 * The OBIS-coded values in a push body: wherever a 6-byte octet string is followed by a value (and
 * optionally a scaler-unit structure), in one container or as [obis, value, scaler-unit] structures.
 */
export function obisValues(data: DlmsData, out: ObisValue[] = [], depth = 0): ObisValue[] {
  if (depth > 16 || (data.type !== 'structure' && data.type !== 'array')) return out;
  const items = data.items;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const next = items[i + 1];
    if (isObis(it) && next && next.type !== 'structure' && next.type !== 'array' && !isObis(next)) {
      const obis = canonicalObis(obisFromBytes(octets(it)));
      const n = dataNumber(next);
      const su = scalerUnit(items[i + 2]);
      if (n !== undefined && su) {
        const s = scaled(n, su[0], su[1]);
        out.push({ obis, value: s.value, scaler: su[0], unit: s.unit ?? s.symbol });
        i += 2;
      } else {
        out.push({ obis, value: n ?? (next.type === 'octet-string' ? octetValue(next.value) : String(dataToJson(next))) });
        i += 1;
      }
      continue;
    }
    if (isObis(it) && isObis(next) && items.length === 2) {
      out.push({ obis: canonicalObis(obisFromBytes(octets(it))), value: printable(octets(next as DlmsData)) });
      i += 1;
      continue;
    }
    obisValues(it, out, depth + 1);
  }
  return out;
}

/** Text when an octet string is printable ASCII (meter ids), else hex. */
function printable(b: Buffer): string {
  return b.every((c) => c >= 0x20 && c < 0x7f) ? b.toString('latin1') : b.toString('hex').toUpperCase();
}

/** A date-time as ISO text (UTC) when it is one and fully specified, else printable text or hex. */
function octetValue(b: Buffer): string {
  if (looksLikeDateTime(b)) {
    const ms = dateTimeToEpochMs(decodeDateTime(b));
    if (ms !== null) return new Date(ms).toISOString();
  }
  return printable(b);
}
