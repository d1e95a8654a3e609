#!/usr/bin/env node
// docs/fields.md from src/core/fields.ts (the table the translator itself uses). `--check`: fail if stale.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(tmpdir(), `pxoci-fields-${process.pid}.mjs`);
await build({ entryPoints: [join(top, 'src/core/fields.ts')], outfile: out, bundle: true, format: 'esm', platform: 'node', logLevel: 'error' });
const { FIELDS } = await import(pathToFileURL(out).href);
const esc = (s) => String(s).replace(/\|/g, '\\|');
const lines = [
  '# config.json fields on a PVE node',
  '',
  'Generated from `src/core/fields.ts` by `scripts/gen-fields-doc.mjs`; a test fails when it is stale.',
  'Every field is applied, provided by LXC/PVE, recorded, or rejected by name — none is silently ignored.',
  '',
  '| field | handling | PVE mechanism / reason |',
  '|---|---|---|',
  ...FIELDS.map((f) => `| \`${esc(f.path)}\` | ${f.handling} | ${esc(f.handling === 'rejected' ? f.why : f.pve)} |`),
  '',
];
const text = lines.join('\n');
const target = join(top, 'docs/fields.md');
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/fields.md is stale: run node scripts/gen-fields-doc.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
