/**
 * Login throttling through the real API (Node-RED, settings.js, flows/ems.json): 60 parallel wrong
 * guesses from one address with the admin's right password among them. Only the first few are checked,
 * the rest wait (429 with retry_after); no wrong guess gets in; the admin is in again after the wait.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEms, type RunningEms } from './runtime';

interface Answer { status: number; error: string | null; password: string }

describe('login throttling over HTTP (real Node-RED)', () => {
  let ems: RunningEms;
  before(async () => { ems = await startEms({ EMS_MODBUS_PORT: '1' }); });
  after(async () => { await ems?.stop(); });

  const login = async (password: string): Promise<Answer> => {
    const res = await fetch(`${ems.url}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }), signal: AbortSignal.timeout(60_000),
    });
    const body = await res.json() as { error: string | null };
    return { status: res.status, error: body.error, password };
  };

  it('60 parallel guesses with the right password interleaved: none gets through a wait, and the admin is in after it', async () => {
    const passwords = Array.from({ length: 61 }, (_, i) => (i === 30 ? 'ems-admin' : `wrong-guess-${i}`));
    const answers = await Promise.all(passwords.map(login));
    const wrongIn = answers.filter((a) => a.status === 200 && a.password !== 'ems-admin');
    assert.deepEqual(wrongIn, [], 'no wrong guess logs in');
    const checked = answers.filter((a) => a.status !== 429);
    assert.ok(checked.length <= 3, `only the first attempts are checked: ${JSON.stringify(checked)}`);
    assert.ok(checked.every((a) => (a.status === 401 && a.error === 'wrong login or password') || (a.status === 200 && a.password === 'ems-admin')));
    const waiting = answers.filter((a) => a.status === 429);
    assert.ok(waiting.length >= 58, `${waiting.length} attempts wait`);
    const retry = Math.max(...waiting.map((a) => Number(/retry_after: (\d+) s/.exec(a.error ?? '')?.[1])));
    assert.ok(retry >= 1 && retry <= 2, `the first wait is short: ${retry} s`);

    // After the wait the admin is in (a stranger's burst does not lock the account).
    await new Promise((r) => setTimeout(r, retry * 1000 + 200));
    const again = await login('ems-admin');
    assert.equal(again.status, 200, JSON.stringify(again));
  });
});
