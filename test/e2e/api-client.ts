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

/** The demo plant `npm start` seeds (scripts/start.js), defined through the API as an operator would. */
export const DEMO_METERS = [['main-incomer', 1, 'eastron-sdm630'], ['hvac', 2, 'abb-a44'], ['lighting', 3, 'carlo-gavazzi-em24']] as const;

export async function createDemoPlant(api: Awaited<ReturnType<typeof loginApi>>, port: number, intervalTime: number): Promise<string> {
  const folder = await api('POST', '/api/folders', { name: 'Demo plant', folder_type: 'site' });
  assert.equal(folder.status, 201, JSON.stringify(folder.body));
  for (const [id, unit, profile] of DEMO_METERS) {
    const m = await api('POST', '/api/meters', {
      _id: id, name: id, folder_id: folder.body.data._id, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port,
      connection_address: String(unit), profile, interval_time: intervalTime,
    });
    assert.equal(m.status, 201, JSON.stringify(m.body));
  }
  return folder.body.data._id;
}
