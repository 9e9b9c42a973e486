/** The license (section "License", the dictionary's "Settings: License"): read by anyone, uploaded by an admin. */
import { ApiError } from '../envelope';
import { checkTerms, licenseStatus, UNLICENSED_METER_LIMIT, type LicenseTerms } from '../license';
import { callerOf } from './helpers';
import type { ApiContext, Operation } from './types';

const TAG = 'License';

const LICENSE_VIEW = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['valid', 'not-yet-active', 'expired', 'deactivated', 'none'] },
    message: { type: 'string' },
    id: { type: 'string', nullable: true }, customer: { type: 'string', nullable: true },
    activation_date: { type: 'string', nullable: true, format: 'date' }, deactivation_date: { type: 'string', nullable: true, format: 'date' },
    expiration_date: { type: 'string', nullable: true, format: 'date' },
    meter_limit: { type: 'integer', description: `meters allowed (${UNLICENSED_METER_LIMIT} without a license)` },
    meters_used: { type: 'integer' },
  },
};

function licenseView(ctx: ApiContext) {
  const s = ctx.services.license.status();
  const t = s.license;
  return {
    state: s.state, message: s.message, id: t?.id ?? null, customer: t?.customer ?? null,
    activation_date: t?.activation_date ?? null, deactivation_date: t?.deactivation_date ?? null, expiration_date: t?.expiration_date ?? null,
    meter_limit: t ? t.meter_limit : UNLICENSED_METER_LIMIT, meters_used: ctx.services.registry.meterCount(),
  };
}

/**
 * The "license" field (else the first file) of a multipart/form-data body. Node-RED's http in parses
 * uploads for POST only, so a PUT arrives here as the raw body (a Buffer).
 */
function multipartField(ctx: ApiContext): string | undefined {
  const type = String(ctx.request.headers['content-type'] ?? '');
  const m = /^multipart\/form-data\b.*?boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  const body = ctx.request.body;
  if (!m || !(Buffer.isBuffer(body) || typeof body === 'string')) return undefined;
  const raw = Buffer.isBuffer(body) ? body.toString('latin1') : body;
  const parts = raw.split(`--${m[1] ?? m[2]}`).slice(1, -1).map((p) => {
    const end = p.indexOf('\r\n\r\n');
    return { head: p.slice(0, Math.max(0, end)), content: end < 0 ? '' : p.slice(end + 4).replace(/\r\n$/, '') };
  });
  const part = parts.find((p) => /(^|;)\s*name="license"/i.test(p.head)) ?? parts.find((p) => /filename=/i.test(p.head));
  if (!part) throw new ApiError(400, 'license: the multipart upload has no "license" field or file');
  return Buffer.from(part.content, 'latin1').toString('utf8');
}

/** The license file's text from a multipart upload, a text body, { license: "<text>" } or the file's JSON itself. */
function licenseText(ctx: ApiContext): string {
  const file = ctx.request.files?.find((f) => f.fieldname === 'license') ?? ctx.request.files?.[0];
  if (file) return file.buffer.toString('utf8');
  const field = multipartField(ctx);
  if (field !== undefined) return field;
  const body = ctx.request.body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (typeof b.license === 'string') return b.license;
    if (b.license && typeof b.license === 'object' && 'signature' in b) return JSON.stringify(b);
  }
  throw new ApiError(400, 'license is missing: send { "license": "<license file text>" }, the file as text/plain, or a multipart file field "license"');
}

/** The terms of a license file, checked for shape (the signature is checked by the license service). */
function termsOf(text: string): LicenseTerms {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `license: not JSON (${(err as Error).message})`);
  }
  return checkTerms((file as { license?: unknown } | null)?.license);
}

export const LICENSE_OPERATIONS: Operation[] = [
  {
    name: 'license.get', method: 'GET', path: '/api/license', access: 'viewer', tag: TAG,
    summary: 'The license: dates, meter_limit, state and meters in use',
    response: LICENSE_VIEW,
    run: (ctx) => licenseView(ctx),
  },
  {
    name: 'license.upload', method: 'PUT', path: '/api/license', access: 'admin', tag: TAG, upload: true,
    summary: 'Install a signed license file',
    description: 'Send { "license": "<file text>" }, the file as text/plain, or a multipart/form-data file field "license". '
      + 'A file whose signature does not match is 400; so is an expired or deactivated one (the current license is kept). '
      + 'The upload is recorded in the event log.',
    body: { type: 'object', required: ['license'], properties: { license: { type: 'string', description: 'the license file\'s text (JSON with license and signature)' } } },
    response: LICENSE_VIEW,
    run(ctx) {
      const text = licenseText(ctx);
      const terms = termsOf(text);
      const s = licenseStatus(terms, ctx.now());
      if (s.state === 'expired' || s.state === 'deactivated') throw new ApiError(400, `license: ${s.message}; the current license is kept`);
      const by = callerOf(ctx).user.login;
      ctx.services.license.upload(text, by); // verifies the signature with the EMS's key: 400 when it does not match
      const view = licenseView(ctx);
      ctx.services.events.add({
        kind: 'license', event: `license ${terms.id} installed: ${view.state}, ${terms.meter_limit} meters until ${terms.expiration_date}`,
        value: terms.customer, source: by, level: view.meters_used > terms.meter_limit ? 'warning' : 'info',
      });
      return view;
    },
  },
];
