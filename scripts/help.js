// `<script> --help` (or -h): prints the script's header comment, which says what it does and how to run it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

module.exports = function helpFromHeader(file) {
  if (!process.argv.slice(2).some((a) => a === '--help' || a === '-h')) return;
  const header = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/ ?/, ''));
  }
  console.log(`Usage: node scripts/${path.basename(file)} ...\n\n${header.join('\n')}`);
  process.exit(0);
};
