/**
 * Probes of a running EMS through its API, shared by the end-to-end tests that wait for polls, events and
 * backfills: every wait fails naming what it awaited, with the tail of the EMS log.
 */
import assert from 'node:assert/strict';
import type { loginApi } from './api-client';
import { eventually, type RunningEms } from './runtime';

type Api = Awaited<ReturnType<typeof loginApi>>;

/** `ems` and `api` are read at each call (tests set them up in before()). */
export function emsProbes(ems: () => RunningEms, api: () => Api) {
  const waitFor = async <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> => {
    try {
      return await eventually(ms, probe);
    } catch {
      throw new Error(`${what}: not within ${ms} ms\n${ems().log().slice(-3000)}`);
    }
  };
  /** The last hour of one OBIS code of a meter. */
  const readings = async (id: string, obis: string): Promise<any[]> => {
    const { status, body } = await api()('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };
  const events = async (id: string, kind: string): Promise<any[]> => (await api()('GET', `/api/events?filter=${kind}&meter=${id}`)).body.data ?? [];
  return { waitFor, readings, events };
}
