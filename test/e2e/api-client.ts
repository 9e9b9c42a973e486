import assert from 'node:assert/strict';

/** Logs in as the demo admin; answers a fetch helper that sends the token. */
export async function loginApi(url: string, username = 'admin', password = 'ems-admin') {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = await res.json() as any;
  assert.equal(res.status, 200, JSON.stringify(body));
  const token = body.data.access_token as string;
  return async (method: string, path: string, payload?: unknown): Promise<{ status: number; body: any }> => {
    const r = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: r.status, body: await r.json() };
  };
}
