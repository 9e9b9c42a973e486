/** Users and per-meter bindings (6.3.17-6.3.23). */
import { EV } from '../gateway';
import type { G13Access } from '../types';
import { DES, G13Error, SUCCESS, bodyObj, fail, ok, type Ctx, type Route } from '../reply';

/** 403 of POST /login while the user still has the administrator-issued password (6.3.2), verbatim. */
export const RESET_PASSWORD = new G13Error(403, 'Please reset password and try again.', {
  contentType: 'text/html', text: 'Please reset password and try again.', headers: { 'X-Pad': 'avoid browser bug', Connection: 'close' },
});

export const ACCESS_TEXT: Record<G13Access, string> = { none: 'No Access', view: 'View Only', configure: 'Configure' };
const ACCESS_OF: Record<string, G13Access> = { 'No Access': 'none', 'View Only': 'view', Configure: 'configure' };
/** User names: lowercase letters and digits only (manual 4.x); name String(16), key String(32). */
const NAME = /^[a-z0-9]{1,16}$/;
const MISSING = DES.missing('name and key tag');

function setPassword(ctx: Ctx) {
  const b = bodyObj(ctx);
  // If the URI and the body disagree, the body wins (6.3.18).
  const name = typeof b.name === 'string' ? b.name : ctx.params.user;
  if (typeof b.key !== 'string' || b.key.length === 0 || b.key.length > 32) fail(400, MISSING);
  const target = ctx.gw.findUser(name);
  if (!target) fail(400, MISSING);
  if (target !== ctx.user && !ctx.user.admin) fail(403, DES.FORBIDDEN);
  // The gateway admin may set a password without the old one; everyone else must give oldkey.
  if (!ctx.user.admin || target === ctx.user) { if (b.oldkey !== target!.password) fail(400, MISSING); }
  target!.password = b.key as string;
  target!.mustChangePassword = target !== ctx.user;
  return SUCCESS;
}

function addUser(ctx: Ctx) {
  const b = bodyObj(ctx);
  if (typeof b.name !== 'string' || !NAME.test(b.name) || typeof b.key !== 'string' || b.key.length === 0 || b.key.length > 32) fail(400, MISSING);
  if (ctx.gw.findUser(b.name as string)) fail(400, DES.INVALID);
  ctx.gw.users.push({ name: b.name as string, password: b.key as string, admin: false, access: {}, session: false, mustChangePassword: true });
  ctx.gw.log(EV.GW_USER_ADDED);
  return SUCCESS;
}

function deleteUser(ctx: Ctx) {
  const b = ctx.body === undefined ? {} : bodyObj(ctx);
  const name = typeof b.name === 'string' ? b.name : ctx.params.user;
  const u = ctx.gw.findUser(name);
  if (!u) fail(400, MISSING);
  if (u!.admin && ctx.gw.users.filter((x) => x.admin).length === 1) fail(403, DES.FORBIDDEN); // keep one admin
  ctx.gw.users = ctx.gw.users.filter((x) => x !== u);
  ctx.gw.log(EV.GW_USER_DELETED);
  return SUCCESS;
}

function getBindings(ctx: Ctx) {
  const u = ctx.gw.findUser(ctx.params.user);
  if (!u) fail(404, DES.NOT_FOUND);
  if (u !== ctx.user && !ctx.user.admin) fail(403, DES.FORBIDDEN);
  const gw = ctx.gw;
  // The gateway itself appears as a binding under its device serial (digest 2: "gateway bindings").
  const bindings = [{ serial: gw.info.serial, access: u!.admin ? 'Configure' : 'View Only' }];
  for (const m of gw.registered()) {
    const a = gw.accessOf(u!, m.spec.serial);
    if (a !== 'none') bindings.push({ serial: m.spec.serial, access: ACCESS_TEXT[a] });
  }
  return ok({ bindings });
}

function binding(remove: boolean) {
  return (ctx: Ctx) => {
    const b = bodyObj(ctx);
    const name = typeof b.name === 'string' ? b.name : ctx.params.user;
    const u = ctx.gw.findUser(name);
    if (!u) fail(400, MISSING);
    if (typeof b.serial !== 'string') fail(400, DES.missing('serial'));
    const access = remove ? 'none' : ACCESS_OF[String(b.access)];
    if (!access) fail(400, DES.missing('access'));
    if (b.serial !== ctx.gw.info.serial && !ctx.gw.meter(b.serial as string)) fail(400, DES.INVALID);
    if (access === 'none') delete u!.access[b.serial as string];
    else u!.access[b.serial as string] = access;
    return SUCCESS;
  };
}

export const routes: Route[] = [
  { method: 'GET', path: '/users', handler: (c) => ok({ users: c.gw.users.map((u) => u.name) }) },
  { method: 'PUT', path: '/users', admin: true, handler: addUser },
  { method: 'POST', path: '/users/:user', handler: setPassword },
  { method: 'DELETE', path: '/users/:user', admin: true, handler: deleteUser },
  { method: 'GET', path: '/users/:user/bindings', handler: getBindings },
  { method: 'PUT', path: '/users/:user/bindings', admin: true, handler: binding(false) },
  { method: 'DELETE', path: '/users/:user/bindings', admin: true, handler: binding(true) },
];
