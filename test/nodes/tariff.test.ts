import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import tariffNode, { type TariffConfigNode } from '../../nodes/tariff/tariff';
import { EXAMPLE_TARIFFS, TOU } from '../../nodes/tariff/examples';

helper.init(require.resolve('node-red'));

/** The TOU example with its winter weekday's 4th band starting an hour early (overlapping the 3rd). */
function overlapping(): typeof TOU {
  const t = JSON.parse(JSON.stringify(TOU)) as typeof TOU;
  const e = t.versions[0].energy[0];
  if (e.type !== 'tou') throw new Error('TOU example changed');
  e.seasons[0].schedule.weekday[3].from = '10:00';
  return t;
}
const BAD_FIELD = 'versions[0].energy[0].seasons[0].schedule.weekday[3].from';

function flow(tariff: string): any[] {
  return [{ id: 't1', type: 'ems-tariff', name: 'home', tariff }];
}

/** Error-level log entries of the last load. */
function loggedErrors(): string[] {
  const log = helper.log() as any;
  return log.args.map((a: any[]) => a[0]).filter((e: any) => e.level === log.ERROR).map((e: any) => String(e.msg));
}

describe('ems-tariff', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  it('loads and validates a valid tariff for the nodes that use it', async () => {
    await helper.load(tariffNode, flow(JSON.stringify(TOU)));
    const n = helper.getNode('t1') as unknown as TariffConfigNode;
    assert.equal(n.tariff?.id, 'tou-seasonal');
    assert.equal(n.tariff?.timeZone, 'Europe/Berlin');
    assert.equal(n.problem, undefined);
    assert.deepEqual(loggedErrors(), []);
  });

  it('offers only example tariffs that validate', async () => {
    for (const [name, t] of Object.entries(EXAMPLE_TARIFFS)) {
      await helper.load(tariffNode, flow(JSON.stringify(t)));
      const n = helper.getNode('t1') as unknown as TariffConfigNode;
      assert.equal(n.problem, undefined, `example ${name}: ${n.problem}`);
      assert.equal(n.tariff?.id, t.id);
      await helper.unload();
    }
  });

  it('reports an invalid tariff naming the field, and keeps the text in .problem', async () => {
    await helper.load(tariffNode, flow(JSON.stringify(overlapping())));
    const n = helper.getNode('t1') as unknown as TariffConfigNode;
    assert.equal(n.tariff, undefined);
    assert.ok(n.problem?.includes(BAD_FIELD), n.problem);
    assert.ok(n.problem?.startsWith('ems-tariff "home": invalid tariff:'), n.problem);
    const logged = loggedErrors();
    assert.equal(logged.length, 1);
    assert.ok(logged[0].includes(BAD_FIELD), logged[0]);
  });

  it('reports JSON that does not parse', async () => {
    await helper.load(tariffNode, flow('{"id": "x",'));
    const n = helper.getNode('t1') as unknown as TariffConfigNode;
    assert.equal(n.tariff, undefined);
    assert.match(n.problem ?? '', /tariff: is not valid JSON/);
  });

  it('answers the editor\'s validate request with the problems', async () => {
    await helper.load(tariffNode, flow(JSON.stringify(TOU)));
    const res = await helper.request().post('/ems-tariff/validate').send({ tariff: JSON.stringify(overlapping()) }).expect(200);
    assert.equal(res.body.ok, false);
    assert.ok(res.body.problems.some((p: { field: string; message: string }) => p.field === BAD_FIELD && /overlap/.test(p.message)), JSON.stringify(res.body.problems));
    assert.equal(res.body.description, null);

    const notJson = await helper.request().post('/ems-tariff/validate').send({ tariff: '{' }).expect(200);
    assert.equal(notJson.body.ok, false);
    assert.equal(notJson.body.problems[0].field, 'tariff');
  });

  it('answers the editor\'s validate request with the periods of a valid tariff', async () => {
    await helper.load(tariffNode, flow(JSON.stringify(TOU)));
    const res = await helper.request().post('/ems-tariff/validate').send({ tariff: JSON.stringify(TOU, null, 2) }).expect(200);
    assert.equal(res.body.ok, true);
    assert.deepEqual(res.body.problems, []);
    const winter = res.body.description.versions[0].energy[0].seasons[0];
    assert.equal(winter.name, 'winter');
    assert.equal(winter.days[0].bands[2].text, '08:00-11:00 peak 0.3600 EUR/kWh');
    assert.match(res.body.text, /Season summer 04-01 to 10-01/);
  });
});
