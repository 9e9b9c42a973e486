/**
 * Published push frames through the push receiver: every telegram of push-published.json (Norwegian
 * and Swedish HAN ports) and push.json (Austrian customer ports, Aidon) becomes readings equal to the
 * values its source states, alone and in one noisy stream cut into odd chunks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PushDecoder, type PushMessage } from '../../lib/protocols/dlms/push';
import { convert } from '../../lib/model/units';

const root = path.resolve(__dirname, '../../..');
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/dlms', f), 'utf8')).telegrams as Telegram[];
const published = load('push-published.json');
const austrian = load('push.json');

interface Telegram {
  name: string; source: string; hex: string; transport: string; key?: string; timeZone?: string; time?: string; list?: string;
  values: Record<string, string | [number, string]>; text?: Record<string, string> | string;
}

const H = (s: string) => Buffer.from(s, 'hex');
const decoder = (t: Telegram) => new PushDecoder({ meter: 'han', timeZone: t.timeZone ?? 'Europe/Vienna', keys: t.key ? { encryptionKey: H(t.key) } : undefined });

function checkMessage(t: Telegram, m: PushMessage): void {
  assert.equal(m.framing, t.transport);
  for (const [obis, want] of Object.entries(t.values)) {
    if (!Array.isArray(want)) {
      assert.equal(m.text[obis], want, `${obis} text`);
      continue;
    }
    const r = m.readings.find((x) => x.obis === obis);
    assert.ok(r, `${obis} is a reading (have ${m.readings.map((x) => x.obis).join(', ')})`);
    assert.equal(r.meter, 'han');
    const inSourceUnit = want[1] === '' ? r.value : convert(r.value, r.unit, want[1]);
    assert.ok(Math.abs(inSourceUnit - want[0]) < 1e-6 * Math.max(1, Math.abs(want[0])), `${obis}: ${inSourceUnit} ${want[1]} where the source states ${want[0]}`);
  }
  if (t.time) assert.equal(new Date(m.time).toISOString(), t.time);
  if (t.list) assert.equal(m.list, t.list);
  if (t.text && typeof t.text === 'object') for (const [obis, text] of Object.entries(t.text)) assert.equal(m.text[obis], text, obis);
}

describe('published push frames through PushDecoder', () => {
  it('has at least 15 published frames, each naming its source', () => {
    assert.ok(published.length >= 15, `${published.length} frames`);
    for (const t of published) assert.match(t.source, /^https:\/\/github\.com\/\S+/, t.name);
  });

  for (const t of [...published, ...austrian]) {
    it(t.name, () => {
      const d = decoder(t);
      const { messages, errors } = d.push(H(t.hex));
      assert.deepEqual(errors.map((e) => e.message), []);
      assert.equal(messages.length, 1);
      checkMessage(t, messages[0]);
      assert.equal(d.stats.skipped, 0);
    });
  }

  it('the plain frames in one stream with junk between them, cut into 7-byte chunks, give the same pushes', () => {
    const plain = [...published, ...austrian].filter((t) => !t.key);
    const junk = Buffer.from('00FF7E7E68016816DEADBEEF0001', 'hex');
    const stream = Buffer.concat(plain.flatMap((t) => [junk, H(t.hex)]));
    const d = new PushDecoder({ meter: 'han', timeZone: 'Europe/Oslo' });
    const got: PushMessage[] = [];
    for (let p = 0; p < stream.length; p += 7) {
      const r = d.push(stream.subarray(p, p + 7));
      assert.deepEqual(r.errors.map((e) => e.message), []);
      got.push(...r.messages);
    }
    assert.equal(got.length, plain.length);
    plain.forEach((t, i) => { if (!t.timeZone || t.timeZone === 'Europe/Oslo') checkMessage({ ...t, time: undefined }, got[i]); });
    assert.ok(d.stats.skipped >= plain.length * junk.length - plain.length * 4, `${d.stats.skipped} junk bytes skipped`);
  });
});
