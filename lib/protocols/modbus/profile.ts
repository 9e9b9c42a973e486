import fs from 'node:fs';
import path from 'node:path';
import { isObis, normaliseObis } from '../../model/obis';
import { isKnownUnit } from '../../model/units';
import { registerCount } from './datatypes';
import { validateLog } from './log';
import { DATA_TYPES, type Profile, type ProfileValue, type ResolvedValue } from './types';

/** Folder of the built-in register-map profiles. */
export const BUILTIN_PROFILE_DIR = path.join(__dirname, 'profiles');

const TABLES = ['holding', 'input'];
const ENDIANS = ['big', 'little'];
const RATIOS = ['ct', 'vt', 'ct*vt'];

function fail(origin: string, field: string, value: unknown, expected: string): never {
  throw new Error(`profile "${origin}": ${field} is ${JSON.stringify(value)}, expected ${expected}`);
}

function oneOf(origin: string, field: string, value: unknown, allowed: readonly string[], optional = false): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'string' || !allowed.includes(value)) fail(origin, field, value, `one of ${allowed.join(', ')}`);
}

function intIn(origin: string, field: string, value: unknown, min: number, max: number, optional = false): void {
  if (optional && value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) fail(origin, field, value, `an integer ${min}..${max}`);
}

/**
 * Validates a register map (parsed JSON) and returns it typed. Every error names the profile, the
 * field (values[3].type) and the bad value. Overlapping values are refused.
 */
export function validateProfile(raw: unknown, origin = 'custom'): Profile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(origin, 'the profile', raw, 'a JSON object');
  const p = raw as Record<string, unknown>;
  const name = typeof p.id === 'string' && p.id ? p.id : origin;
  for (const f of ['id', 'manufacturer', 'model', 'source']) {
    if (typeof p[f] !== 'string' || p[f] === '') fail(name, f, p[f], 'a non-empty string');
  }
  const d = p.defaults as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') fail(name, 'defaults', d, 'an object with type, wordOrder, byteOrder, table');
  oneOf(name, 'defaults.type', d.type, DATA_TYPES);
  oneOf(name, 'defaults.wordOrder', d.wordOrder, ENDIANS);
  oneOf(name, 'defaults.byteOrder', d.byteOrder, ENDIANS);
  oneOf(name, 'defaults.table', d.table, TABLES);
  intIn(name, 'maxBlock', p.maxBlock, 1, 125);
  intIn(name, 'maxGap', p.maxGap, 0, 124, true);
  if (!Array.isArray(p.values) || p.values.length === 0) fail(name, 'values', p.values, 'a non-empty array');
  const seenObis = new Set<string>();
  (p.values as unknown[]).forEach((v, i) => {
    const at = `values[${i}]`;
    if (v === null || typeof v !== 'object') fail(name, at, v, 'an object');
    const x = v as Record<string, unknown>;
    if (typeof x.name !== 'string' || !x.name) fail(name, `${at}.name`, x.name, 'a non-empty string');
    if (!isObis(x.obis)) fail(name, `${at}.obis`, x.obis, 'an OBIS code such as 1-0:1.8.0');
    const obis = normaliseObis(x.obis as string);
    if (seenObis.has(obis)) fail(name, `${at}.obis`, x.obis, 'a code not used by another value');
    seenObis.add(obis);
    intIn(name, `${at}.register`, x.register, 0, 65535);
    oneOf(name, `${at}.table`, x.table, TABLES, true);
    oneOf(name, `${at}.type`, x.type, DATA_TYPES, true);
    oneOf(name, `${at}.wordOrder`, x.wordOrder, ENDIANS, true);
    oneOf(name, `${at}.byteOrder`, x.byteOrder, ENDIANS, true);
    if (typeof x.unit !== 'string' || !isKnownUnit(x.unit)) fail(name, `${at}.unit`, x.unit, 'a unit of the unit table (kWh, Wh, V, A, ...)');
    if (x.scale !== undefined && (typeof x.scale !== 'number' || !Number.isFinite(x.scale) || x.scale === 0)) {
      fail(name, `${at}.scale`, x.scale, 'a non-zero number');
    }
    intIn(name, `${at}.scaleRegister`, x.scaleRegister, 0, 65535, true);
    oneOf(name, `${at}.ratio`, x.ratio, RATIOS, true);
    if (x.notAvailable !== undefined && !(Array.isArray(x.notAvailable) && x.notAvailable.every(Number.isFinite))) {
      fail(name, `${at}.notAvailable`, x.notAvailable, 'an array of numbers');
    }
  });
  const profile = raw as Profile;
  const resolved = resolveValues(profile);
  const end = (r: ResolvedValue) => r.register + registerCount(r.type);
  for (const r of resolved) {
    if (end(r) > 65536) fail(name, `value "${r.name}" register`, r.register, 'a value that ends below register 65536');
    if (registerCount(r.type) > profile.maxBlock) fail(name, 'maxBlock', profile.maxBlock, `at least ${registerCount(r.type)} (${r.name} is ${r.type})`);
  }
  for (const table of TABLES) {
    const inTable = resolved.filter((r) => r.table === table).sort((a, b) => a.register - b.register);
    for (let i = 1; i < inTable.length; i++) {
      if (inTable[i].register < end(inTable[i - 1])) {
        throw new Error(`profile "${name}": "${inTable[i].name}" at ${table} register ${inTable[i].register} overlaps "${inTable[i - 1].name}" at ${inTable[i - 1].register}`);
      }
    }
  }
  validateLog(profile);
  return profile;
}

/** Every value with the profile's defaults filled in and its OBIS code normalised. */
export function resolveValues(profile: Profile): ResolvedValue[] {
  return profile.values.map((v: ProfileValue) => ({
    obis: normaliseObis(v.obis),
    name: v.name,
    register: v.register,
    unit: v.unit,
    table: v.table ?? profile.defaults.table,
    type: v.type ?? profile.defaults.type,
    wordOrder: v.wordOrder ?? profile.defaults.wordOrder,
    byteOrder: v.byteOrder ?? profile.defaults.byteOrder,
    scale: v.scale ?? 1,
    scaleRegister: v.scaleRegister,
    ratio: v.ratio,
    notAvailable: v.notAvailable,
  }));
}

const cache = new Map<string, Profile>();

function profileFile(id: string, dirs: readonly string[]): string | undefined {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id)) throw new Error(`invalid profile id "${id}": use letters, digits, . _ -`);
  for (const dir of dirs) {
    const file = path.join(dir, `${id}.json`);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Loads a profile by id from the user's folders first (so a user can override a built-in map), then
 * the built-in folder. Throws naming the id and the folders searched when there is none.
 */
export function loadProfile(id: string, userDirs: readonly string[] = []): Profile {
  const dirs = [...userDirs, BUILTIN_PROFILE_DIR];
  const file = profileFile(id, dirs);
  if (!file) throw new Error(`unknown profile "${id}" (looked in ${dirs.join(', ')})`);
  const stat = fs.statSync(file);
  const key = `${file}@${stat.mtimeMs}`;
  let profile = cache.get(key);
  if (!profile) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`profile "${id}": ${file} is not valid JSON (${(err as Error).message})`);
    }
    profile = validateProfile(raw, id);
    if (profile.id !== id) throw new Error(`profile "${id}": file ${file} declares id "${profile.id}"`);
    cache.set(key, profile);
  }
  return profile;
}

export interface ProfileSummary {
  id: string;
  manufacturer: string;
  model: string;
  values: number;
  builtIn: boolean;
  /** Why the file cannot be used; the other fields are then placeholders. */
  error?: string;
}

/** The profiles available in the given folders and the built-in one (user folders first). A broken file is listed with its error, not fatal. */
export function listProfiles(userDirs: readonly string[] = []): ProfileSummary[] {
  const seen = new Map<string, ProfileSummary>();
  for (const dir of [...userDirs, BUILTIN_PROFILE_DIR]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
      const id = f.slice(0, -5);
      if (seen.has(id)) continue;
      const builtIn = dir === BUILTIN_PROFILE_DIR;
      try {
        const p = loadProfile(id, [dir]);
        seen.set(id, { id, manufacturer: p.manufacturer, model: p.model, values: p.values.length, builtIn });
      } catch (err) {
        seen.set(id, { id, manufacturer: '', model: '', values: 0, builtIn, error: (err as Error).message });
      }
    }
  }
  return [...seen.values()];
}
