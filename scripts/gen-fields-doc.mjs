#!/usr/bin/env node
// docs/fields.md from src/oci/fields.ts (the table the translator itself uses) and the conformance
// results committed in conformance/results/ (conformance/oci.test.ts writes <runtime>.json; another
// suite may write <runtime>.<suite>.json in the same shape: {runtime, fields: {row: {result, …}}}).
// `--check`: fail if docs/fields.md is not what the table and the results give.
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'pxoci-fields-'));
await build({
  entryPoints: { fields: join(top, 'src/oci/fields.ts'), differences: join(top, 'conformance/differences.ts') },
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

// Every conformance file writes conformance/results/<runtime>[.<suite>].json; a row checked by several
// suites shows the worst outcome.
const RUNTIMES = ['pxoci', 'runc'];
const rank = { pass: 0, rejected: 1, difference: 2, fail: 3 };
const resultsDir = join(top, 'conformance/results');
const results = Object.fromEntries(RUNTIMES.map((r) => [r, {}]));
const rows = new Set(FIELDS.map((f) => f.path));
for (const file of existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort() : []) {
  const { runtime, fields } = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
  if (!results[runtime]) continue;
  for (const [path, outcome] of Object.entries(fields)) {
    if (!rows.has(path)) {
      console.error(`conformance/results/${file}: "${path}" is not a row of src/oci/fields.ts; run the conformance suite again`);
      process.exit(1);
    }
    const seen = results[runtime][path];
    if (!seen || rank[outcome.result] > rank[seen.result]) results[runtime][path] = outcome;
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
  'Generated from `src/oci/fields.ts` and `conformance/results/*.json` by `scripts/gen-fields-doc.mjs`; a test',
  'fails when it is stale. Every field is applied, provided by LXC/PVE, recorded, or rejected by name — none',
  'is silently ignored.',
  '',
  'The **pxoci** and **runc** columns are what `conformance/*.test.ts` saw from inside the container',
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
      'docs/fields.md is stale: it must match src/oci/fields.ts and conformance/results/*.json.\n' +
        'Run the conformance suite for both runtimes (npm run conformance && npm run conformance:runc), then\n' +
        'node scripts/gen-fields-doc.mjs, and commit docs/fields.md with conformance/results/.',
    );
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
