// Every node's help as a user reads it in the editor's help sidebar (headless Chromium, real Node-RED):
// each documented property is a row with its name, type and description, as in Node-RED's core nodes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { missingPeer } from '../fixtures/sim/peers';
import { startEms, DEMO_ADMIN, type RunningEms } from './runtime';
import { chromiumAbsent, editorLogin, launchChromium } from './browser';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const NODES: Record<string, string> = pkg['node-red'].nodes;

/** The markdown help of a node type, from its source file (nodes/<name>/locales/en-US/<name>.html). */
function helpSource(type: string): string {
  const name = path.basename(NODES[type], '.js');
  const file = path.join(ROOT, 'nodes', name, 'locales', 'en-US', `${name}.html`);
  const html = fs.readFileSync(file, 'utf8');
  const m = new RegExp(`<script type="text/markdown" data-help-name="${type}">([\\s\\S]*?)</script>`).exec(html);
  assert.ok(m, `${file} has a markdown help block for ${type}`);
  return m![1];
}

/** The property lines of a markdown help: Node-RED's `: name (type) : description`. */
function propertyLines(src: string): string[] {
  return src.split('\n').filter((l) => l.startsWith(': '));
}

interface Rendered {
  title: string;
  rows: { name: string; type: string; description: string; optional: boolean }[];
  /** dt elements anywhere, also those outside a message-properties list (a broken list). */
  dts: number;
  headings: string[];
  /** Text lines outside the property lists that still look like a markdown property line. */
  leaked: string[];
}

async function openHelp(page: Page, type: string): Promise<Rendered> {
  await page.evaluate((t) => (window as any).RED.sidebar.help.show(t), type);
  await page.waitForFunction((t) => {
    const def = (window as any).RED.nodes.registry.getNodeType(t);
    const label = typeof def?.paletteLabel === 'function' ? def.paletteLabel.call(def) : def?.paletteLabel || t;
    return document.querySelector('.red-ui-sidebar-help-stack h1.red-ui-help-title')?.textContent === label;
  }, type, { timeout: 10_000 });
  return page.evaluate(() => {
    const body = document.querySelector('.red-ui-sidebar-help-stack h1.red-ui-help-title + .red-ui-help') as HTMLElement;
    const rows = Array.from(body.querySelectorAll('dl.message-properties > dt')).map((dt) => {
      const typeEl = dt.querySelector('.property-type');
      const nameEl = dt.cloneNode(true) as HTMLElement;
      nameEl.querySelector('.property-type')?.remove();
      const dd = dt.nextElementSibling;
      return {
        name: (nameEl.textContent ?? '').trim(),
        type: (typeEl?.textContent ?? '').trim(),
        description: dd?.tagName === 'DD' ? (dd.textContent ?? '').trim() : '',
        optional: !!dt.querySelector('em') || dt.classList.contains('optional'),
      };
    });
    const copy = body.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('dl.message-properties').forEach((dl) => dl.remove());
    const leaked = (copy.textContent ?? '').split('\n').map((l) => l.trim()).filter((l) => /^:\s*\S/.test(l));
    return {
      title: document.querySelector('.red-ui-sidebar-help-stack h1.red-ui-help-title')?.textContent ?? '',
      rows,
      dts: body.querySelectorAll('dt').length,
      headings: Array.from(body.querySelectorAll('h3')).map((h) => (h.textContent ?? '').trim()),
      leaked,
    };
  });
}

describe('node help in the editor sidebar', missingPeer(chromiumAbsent), () => {
  let ems: RunningEms;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ems = await startEms({});
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    await page.goto(ems.url, { timeout: 30_000 });
    await editorLogin(page, DEMO_ADMIN.login, DEMO_ADMIN.password);
    await page.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await ems?.stop();
  });

  for (const type of Object.keys(NODES)) {
    it(`${type}: every documented property renders as a row with name, type and description`, async () => {
      const src = helpSource(type);
      const lines = propertyLines(src);
      const help = await openHelp(page, type);
      const where = `${type}: ${JSON.stringify(help.rows.map((r) => `${r.name} (${r.type})`))}`;
      assert.equal(help.rows.length, lines.length, `rows rendered vs property lines in the source, ${where}`);
      assert.equal(help.dts, help.rows.length, `every dt is in a message-properties list, ${where}`);
      for (const [i, row] of help.rows.entries()) {
        assert.ok(row.name, `row ${i + 1} of ${type} has a name (${lines[i]})`);
        assert.ok(row.type, `row ${row.name} of ${type} has a type`);
        assert.ok(row.description, `row ${row.name} of ${type} has a description`);
        // The description is all of the source text after the separator, not a cut-off tail.
        const srcDesc = lines[i].replace(/^:[^:]*:\s*/, '').replace(/[`*]/g, '').replace(/&#58;/g, ':').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim();
        const shown = row.description.replace(/\s+/g, ' ');
        assert.ok(shown.startsWith(srcDesc.slice(0, 20).replace(/\s+/g, ' ')), `row ${row.name} of ${type} shows its whole description: ${shown}`);
        const optionalInSource = /^:\s*\*[^*]+\*/.test(lines[i]);
        assert.equal(row.optional, optionalInSource, `row ${row.name} of ${type}: optional mark`);
      }
      assert.deepEqual(help.leaked, [], `${type}: markdown property lines leaked into the text`);
      // Sections as in core nodes' help: each present section renders as a heading.
      for (const h of ['Inputs', 'Outputs', 'Details', 'Properties']) {
        if (new RegExp(`^### ${h}\\s*$`, 'm').test(src)) assert.ok(help.headings.includes(h), `${type}: section ${h} in ${help.headings.join(', ')}`);
      }
      assert.ok(help.headings.includes('Details') || help.headings.length === 0, `${type}: has a Details section (${help.headings.join(', ')})`);
    });
  }
});
