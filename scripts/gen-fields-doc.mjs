#!/usr/bin/env node
// docs/fields.md from src/core/fields.ts (the table the translator itself uses) and the conformance
// results committed in conformance/results/<runtime>.json (written by conformance/oci.test.ts).
// `--check`: fail if docs/fields.md is not what the table and the results give.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'pxoci-fields-'));
await build({
  entryPoints: { fields: join(top, 'src/core/fields.ts'), differences: join(top, 'conformance/differences.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'node',
  outExtension: { '.js': '.mjs' },
  logLevel: 'error',
});
const { FIELDS } = await import(pathToFileURL(join(out, 'fields.mjs')).href);
const { DIFFERENCES } = await import(pathToFileURL(join(out, 'differences.mjs')).href);
rmSync(out, { recursive: true, force: true });

const RUNTIMES = ['pxoci', 'runc'];
const results = Object.fromEntries(
  RUNTIMES.map((r) => {
    try {
      return [r, JSON.parse(readFileSync(join(top, 'conformance/results', `${r}.json`), 'utf8')).fields];
    } catch {
      return [r, {}];
    }
  }),
);
const rows = new Set(FIELDS.map((f) => f.path));
for (const r of RUNTIMES) {
  for (const path of Object.keys(results[r])) {
    if (!rows.has(path)) {
      console.error(`conformance/results/${r}.json: "${path}" is not a row of src/core/fields.ts; run the conformance suite again`);
      process.exit(1);
    }
  }
}

const esc = (s) => String(s).replace(/\|/g, '\\|');
function cell(runtime, path) {
  const o = results[runtime][path];
  if (!o) return 'not checked';
  if (o.result === 'difference') return `difference: [${o.difference}](#${o.difference})`;
  return o.result;
}
const lines = [
  '# config.json fields on a PVE node',
  '',
  'Generated from `src/core/fields.ts` and `conformance/results/*.json` by `scripts/gen-fields-doc.mjs`; a test',
  'fails when it is stale. Every field is applied, provided by LXC/PVE, recorded, or rejected by name — none',
  'is silently ignored.',
  '',
  'The **pxoci** and **runc** columns are what `conformance/oci.test.ts` saw from inside the container',
  '(pxoci on a simulated PVE node, runc from Debian on the same host): `pass`, `fail`, `rejected` (create',
  'fails naming the field, as documented), a named documented difference (below), or `not checked`.',
  '',
  '| field | handling | PVE mechanism / reason | pxoci | runc |',
  '|---|---|---|---|---|',
  ...FIELDS.map(
    (f) => `| \`${esc(f.path)}\` | ${f.handling} | ${esc(f.handling === 'rejected' ? f.why : f.pve)} | ${cell('pxoci', f.path)} | ${cell('runc', f.path)} |`,
  ),
  '',
  '## Documented differences',
  '',
  'A check that meets one of these still asserts what the container does see instead.',
  '',
  ...Object.entries(DIFFERENCES).flatMap(([name, d]) => [`### ${name}`, '', `Applies to: ${d.runtimes.join(', ')}. ${d.text}`, '']),
];
const text = lines.join('\n');
const target = join(top, 'docs/fields.md');
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    console.error(
      'docs/fields.md is stale: it must match src/core/fields.ts and conformance/results/*.json.\n' +
        'Run the conformance suite for both runtimes (npm run conformance && npm run conformance:runc), then\n' +
        'node scripts/gen-fields-doc.mjs, and commit docs/fields.md with conformance/results/.',
    );
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
