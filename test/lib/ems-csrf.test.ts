import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiRequest } from '../../lib/ems/api/types';
import { checkCsrf } from '../../lib/ems/csrf';
import { ApiError } from '../../lib/ems/envelope';

const req = (method: string, headers: Record<string, string>): ApiRequest =>
  ({ params: {}, query: {}, body: {}, headers: { host: '127.0.0.1:1880', ...headers }, cookies: {}, method }) as ApiRequest;

function refused(r: ApiRequest, allowed: string[], text: RegExp): void {
  assert.throws(() => checkCsrf(r, true, allowed), (e: unknown) => e instanceof ApiError && e.status === 403 && text.test(e.message));
}

describe('checkCsrf', () => {
  it('lets same-host and listed origins write with the cookie', () => {
    checkCsrf(req('POST', { origin: 'http://127.0.0.1:1880' }), true, []);
    checkCsrf(req('DELETE', { origin: 'HTTP://127.0.0.1:1880' }), true, []);
    checkCsrf(req('PUT', { referer: 'http://127.0.0.1:1880/dashboard/page?x=1' }), true, []);
    checkCsrf(req('POST', { origin: 'https://ems.example', host: 'ems.example:443' }), true, []);
    checkCsrf(req('POST', { origin: 'https://app.example.com' }), true, ['https://app.example.com/']);
  });

  it('refuses a foreign, null or missing origin, naming it', () => {
    refused(req('POST', { origin: 'http://evil.example' }), [], /origin "http:\/\/evil.example" is neither this host \("127.0.0.1:1880"\) nor listed in EMS_CORS_ORIGINS/);
    refused(req('POST', { origin: 'null' }), [], /origin "null"/);
    refused(req('PUT', { referer: 'http://127.0.0.1.evil.example/x' }), [], /referer "http:\/\/127.0.0.1.evil.example"/);
    refused(req('POST', { origin: 'http://127.0.0.1:1881' }), ['https://app.example.com'], /origin "http:\/\/127.0.0.1:1881"/);
    refused(req('POST', {}), [], /needs an Origin or Referer header/);
    refused(req('POST', { origin: 'https://app.example.com.evil' }), ['https://app.example.com'], /not|neither/);
    // A missing method counts as a write.
    refused({ ...req('POST', {}), method: undefined } as ApiRequest, [], /needs an Origin or Referer/);
  });

  it('does not check reads or requests authenticated by a Bearer token or an API key', () => {
    checkCsrf(req('GET', { origin: 'http://evil.example' }), true, []);
    checkCsrf(req('HEAD', {}), true, []);
    checkCsrf(req('POST', { origin: 'http://evil.example' }), false, []);
  });
});
