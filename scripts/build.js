#!/usr/bin/env node
// Builds dist/: tsc for runtime code (CommonJS), esbuild for each node's editor script, and copies
// editor templates, locales, icons and data files. Checks that package.json registers every node.
'use strict';
require('./help')(__filename);
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function copyTree(from, to, filter = () => true) {
  if (!fs.existsSync(from)) return;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, filter);
    else if (filter(src)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

// tsc emits JavaScript even when it reports type errors; build the editors too, then fail at the end.
let typeErrors = false;
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  typeErrors = true;
}

// Data files next to the code that reads them (profiles, tables, calendars), with their format docs.
copyTree(path.join(root, 'lib'), path.join(dist, 'lib'), (f) => f.endsWith('.json') || f.endsWith('.pem') || f.endsWith('README.md'));
const binDir = path.join(dist, 'bin');
for (const f of fs.existsSync(binDir) ? fs.readdirSync(binDir) : []) if (f.endsWith('.js')) fs.chmodSync(path.join(binDir, f), 0o755);

const esbuild = require('esbuild');
const nodesDir = path.join(root, 'nodes');
const registered = require(path.join(root, 'package.json'))['node-red'].nodes;
const registeredFiles = new Set(Object.values(registered));
for (const name of fs.readdirSync(nodesDir)) {
  const dir = path.join(nodesDir, name);
  if (!fs.statSync(dir).isDirectory()) continue;
  const out = path.join(dist, 'nodes', name);
  const editor = esbuild.buildSync({
    entryPoints: [path.join(dir, 'editor.ts')], bundle: true, format: 'iife', target: 'es2020', write: false, charset: 'utf8',
  });
  const template = fs.readFileSync(path.join(dir, 'editor.html'), 'utf8');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `${name}.html`),
    `<script type="text/javascript">\n${editor.outputFiles[0].text}</script>\n${template}`);
  copyTree(path.join(dir, 'locales'), path.join(out, 'locales'));
  copyTree(path.join(dir, 'icons'), path.join(out, 'icons'));
  const file = `dist/nodes/${name}/${name}.js`;
  if (!registeredFiles.has(file)) throw new Error(`package.json "node-red".nodes does not list ${file}`);
}
for (const file of Object.values(require(path.join(root, 'package.json'))['node-red'].plugins ?? {})) {
  if (!fs.existsSync(path.join(root, file))) throw new Error(`package.json "node-red".plugins lists ${file}, which the build did not produce`);
}
console.log(`built dist/ (${registeredFiles.size} node files)`);
if (typeErrors) {
  console.error('build failed: tsc reported type errors (above)');
  process.exit(1);
}
