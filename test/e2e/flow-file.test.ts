/**
 * The live flows are a copy in the user directory: a deploy in the editor changes that copy and never the
 * tracked flows/ems.json; EMS_RESET_FLOWS=1 replaces the copy with the shipped flows again.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { editorHeaders, editorToken, startEms, type RunningEms } from './runtime';

const SHIPPED = path.resolve(__dirname, '..', '..', '..', 'flows', 'ems.json');
const hash = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('the flow file (real Node-RED, settings.js)', () => {
  let ems: RunningEms | undefined;
  after(async () => { await ems?.stop(); });

  it('deploys go to <user dir>/ems-flows.json, never to the tracked flows/ems.json; EMS_RESET_FLOWS=1 restores the shipped flows', async () => {
    const shippedBefore = hash(SHIPPED);
    ems = await startEms({ EMS_MODBUS_PORT: '1' });
    const userFlows = path.join(ems.userDir, 'ems-flows.json');
    assert.equal(hash(userFlows), shippedBefore, 'the first start copies the shipped flows');

    const token = await editorToken(ems.url);
    const { rev, flows } = await (await fetch(`${ems.url}/flows`, { headers: editorHeaders(token) })).json() as { rev: string; flows: any[] };
    const tab = flows.find((n) => n.type === 'tab');
    const note = { id: 'user-note-1', type: 'comment', z: tab.id, name: 'my own note', info: '', x: 100, y: 40, wires: [] };
    const deploy = await fetch(`${ems.url}/flows`, {
      method: 'POST', headers: editorHeaders(token, { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'nodes' }),
      body: JSON.stringify({ rev, flows: [...flows, note] }),
    });
    assert.equal(deploy.status, 200, await deploy.text());
    assert.ok(fs.readFileSync(userFlows, 'utf8').includes('my own note'), 'the deploy is in the user directory');
    assert.equal(hash(SHIPPED), shippedBefore, 'the tracked flows/ems.json is untouched');

    // A restart keeps the user's flows; EMS_RESET_FLOWS=1 brings the shipped ones back.
    const userDir = ems.userDir;
    await ems.stop({ keepUserDir: true });
    ems = await startEms({ EMS_MODBUS_PORT: '1' }, userDir);
    assert.ok(fs.readFileSync(userFlows, 'utf8').includes('my own note'), 'a restart keeps the deployed flows');
    await ems.stop({ keepUserDir: true });
    ems = await startEms({ EMS_MODBUS_PORT: '1', EMS_RESET_FLOWS: '1' }, userDir);
    assert.equal(hash(userFlows), shippedBefore, 'EMS_RESET_FLOWS=1 copies the shipped flows again');
  });
});
