/** Tariffs T1-T4: source, active tariff and the calendar profiles (6.3.81-6.3.90). */
import { DES, G13Error, SUCCESS, applyInOrder, bodyObj, fail, isInt, isObj, ok, type Ctx, type Obj, type Route } from '../reply';
import { electricity } from './meter-info';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function getTariff(ctx: Ctx) {
  electricity(ctx);
  const t = ctx.meter.tariff;
  // !! daytype/season only for source 0 (Clock), inputconfig only for 2 (Input) (digest 3.10 #81).
  if (t.source === 0) {
    const h = new Date(ctx.now).getUTCHours();
    const active = h >= 6 && h < 22 ? 1 : 2; // day profile 1: T1 06:00-22:00, else T2
    return ok({ daytype: 1, season: 1, tariff: active, source: 0 });
  }
  if (t.source === 2) return ok({ tariff: t.tariff, source: 2, inputconfig: t.inputconfig });
  return ok({ tariff: t.tariff, source: t.source });
}

function postTariff(ctx: Ctx) {
  electricity(ctx);
  const b = bodyObj(ctx);
  const t = ctx.meter.tariff;
  if (!('tariff' in b) && !('source' in b) && !('inputconfig' in b)) fail(400, DES.missing('tariff'));
  // In order; the source may come alone or combined. tariff only while the source is Communication (1),
  // inputconfig only with Input (2).
  const order = ['source', 'inputconfig', 'tariff'].filter((k) => k in b);
  return applyInOrder(order.map((k) => [k, () => {
    const v = b[k];
    if (k === 'source') { if (!isInt(v) || v < 0 || v > 2) throw new G13Error(400, DES.missing('source')); t.source = v; return; }
    if (k === 'inputconfig') {
      if (t.source !== 2 || !Array.isArray(v) || v.length !== 4 || !v.every((x) => isInt(x) && x >= 1 && x <= 4)) throw new G13Error(400, DES.INVALID);
      t.inputconfig = v as number[]; return;
    }
    if (t.source !== 1 || !isInt(v) || v < 1 || v > 4) throw new G13Error(400, DES.INVALID);
    t.tariff = v;
  }]));
}

function postDayProfile(ctx: Ctx) {
  electricity(ctx);
  const b = bodyObj(ctx);
  const okAction = (a: unknown) => Array.isArray(a) && a.length === 2 && isInt(a[0]) && a[0] >= 1 && a[0] <= 12 && typeof a[1] === 'string' && HHMM.test(a[1]);
  if (!isInt(b.profile) || b.profile < 1 || b.profile > 16) fail(400, DES.missing('profile'));
  if (!Array.isArray(b.actions) || b.actions.length === 0 || b.actions.length > 30 || !b.actions.every(okAction)) fail(400, DES.missing('actions'));
  const list = ctx.meter.dayprofiles.filter((p) => p.profile !== b.profile);
  list.push({ profile: b.profile as number, actions: (b.actions as [number, string][]).slice().sort((x, y) => x[1].localeCompare(y[1])) });
  ctx.meter.dayprofiles = list.sort((x, y) => x.profile - y.profile);
  return SUCCESS;
}

function postWeekProfiles(ctx: Ctx) {
  electricity(ctx);
  const w = bodyObj(ctx).weekprofiles;
  if (!Array.isArray(w) || w.length === 0) fail(400, DES.missing('weekprofiles'));
  const m = ctx.meter;
  return applyInOrder((w as unknown[]).map((p, i) => [`weekprofiles[${i}]`, () => {
    const o = p as Obj;
    if (!isObj(p) || typeof o.profile !== 'string' || o.profile.length > 30 || !Array.isArray(o.dayid) || o.dayid.length !== 7
      || !o.dayid.every((d) => isInt(d) && d >= 1 && d <= 16)) throw new G13Error(400, DES.missing('profile'));
    const i2 = m.weekprofiles.findIndex((x) => x.profile === o.profile);
    if (i2 < 0 && m.weekprofiles.length >= 4) throw new G13Error(400, DES.INVALID); // max 4
    const entry = { profile: o.profile as string, dayid: o.dayid as number[] };
    if (i2 >= 0) m.weekprofiles[i2] = entry; else m.weekprofiles.push(entry);
  }]));
}

function postSeasons(ctx: Ctx) {
  electricity(ctx);
  const s = bodyObj(ctx).seasonprofiles;
  if (!Array.isArray(s) || s.length === 0) fail(400, DES.missing('seasonprofiles'));
  const m = ctx.meter;
  return applyInOrder((s as unknown[]).map((p, i) => [`seasonprofiles[${i}]`, () => {
    const o = p as Obj;
    const dayOk = isInt(o.day) && ((o.day >= 1 && o.day <= 31) || o.day === 254);
    if (!isObj(p) || typeof o.profile !== 'string' || !dayOk || !isInt(o.month) || o.month < 1 || o.month > 12 || typeof o.weekprofile !== 'string') {
      throw new G13Error(400, DES.missing('profile'));
    }
    const entry = { profile: o.profile as string, day: o.day as number, month: o.month as number, weekprofile: o.weekprofile as string };
    const j = m.seasonprofiles.findIndex((x) => x.profile === o.profile);
    if (j >= 0) m.seasonprofiles[j] = entry; else m.seasonprofiles.push(entry);
  }]));
}

function postSpecialDay(ctx: Ctx) {
  electricity(ctx);
  const b = bodyObj(ctx);
  const d = b.date as Obj;
  const inR = (v: unknown, lo: number, hi: number, wild: number) => isInt(v) && ((v >= lo && v <= hi) || v === wild || (wild === 255 && v === 254));
  if (!isInt(b.profile) || b.profile < 1 || !isInt(b.dayprofile) || b.dayprofile < 1 || b.dayprofile > 16) fail(400, DES.missing('profile'));
  if (!isObj(d) || !inR(d.year, 1970, 2099, 65535) || !inR(d.month, 1, 12, 255) || !inR(d.week, 1, 5, 255) || !inR(d.day, 1, 31, 255)) fail(400, DES.missing('date'));
  const m = ctx.meter;
  const date = { year: d.year as number, month: d.month as number, week: d.week as number, day: d.day as number };
  const same = m.specialdays.find((x) => x.date.year === date.year && x.date.month === date.month && x.date.week === date.week && x.date.day === date.day);
  // A matching date is updated; otherwise an entry is added and the ids renumbered in sequence.
  if (same) { same.dayprofile = b.dayprofile as number; return SUCCESS; }
  if (m.specialdays.length >= 50) fail(400, DES.INVALID);
  m.specialdays.push({ profile: b.profile as number, dayprofile: b.dayprofile as number, date });
  m.specialdays.forEach((x, i) => { x.profile = i + 1; });
  return SUCCESS;
}

const r = (method: Route['method'], path: string, handler: Route['handler']): Route =>
  ({ method, path: `/meters/:serial${path}`, meter: method === 'GET' ? 'view' : 'configure', handler });
const view = <T>(f: (c: Ctx) => T) => (c: Ctx) => { electricity(c); return ok(f(c)); };

export const routes: Route[] = [
  r('GET', '/tariff', getTariff),
  r('POST', '/tariff', postTariff),
  r('GET', '/tariff/dayprofiles', view((c) => ({ dayprofiles: c.meter.dayprofiles.map((p) => ({ actions: p.actions, profile: p.profile })) }))),
  r('POST', '/tariff/dayprofiles', postDayProfile),
  r('GET', '/tariff/weekprofiles', view((c) => ({ weekprofiles: c.meter.weekprofiles.map((p) => ({ dayid: p.dayid, profile: p.profile })) }))),
  r('POST', '/tariff/weekprofiles', postWeekProfiles),
  r('GET', '/tariff/seasonprofiles', view((c) => ({ seasonprofiles: c.meter.seasonprofiles }))),
  r('POST', '/tariff/seasonprofiles', postSeasons),
  // !! The examples say /tariff/seasons (digest 3.10 #87): served as an alias.
  r('GET', '/tariff/seasons', view((c) => ({ seasonprofiles: c.meter.seasonprofiles }))),
  r('POST', '/tariff/seasons', postSeasons),
  r('GET', '/tariff/specialdayprofiles', view((c) => ({ specialdayprofiles: c.meter.specialdays.map((s) => ({ date: s.date, dayprofile: s.dayprofile, profile: s.profile })) }))),
  r('POST', '/tariff/specialdayprofiles', postSpecialDay),
];
