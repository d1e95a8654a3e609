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
const { DIFFERENCES, VALIDATION_DIFFERENCES } = await import(pathToFileURL(join(out, 'differences.mjs')).href);
rmSync(out, { recursive: true, force: true });

// Every conformance file writes conformance/results/<runtime>[.<suite>].json; a row checked by several
// suites shows the worst outcome.
const RUNTIMES = ['pxoci', 'runc'];
const rank = { pass: 0, rejected: 1, difference: 2, fail: 3 };
const resultsDir = join(top, 'conformance/results');
const results = Object.fromEntries(RUNTIMES.map((r) => [r, {}]));
const rows = new Set(FIELDS.map((f) => f.path));
const VALIDATION_RESULTS = 'oci-validation.json';
for (const file of existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.json') && f !== VALIDATION_RESULTS).sort() : []) {
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
  ...validationSection(),
];

/** scripts/oci-validation.sh's last committed run: counts per program, then every check runc passes and
 *  pxoci does not, with its documented difference or as a bug. */
function validationSection() {
  const file = join(resultsDir, VALIDATION_RESULTS);
  if (!existsSync(file)) return [];
  const { versions, programs: stored } = JSON.parse(readFileSync(file, 'utf8'));
  const programs = Object.fromEntries(
    Object.entries(stored).map(([name, p]) => [name, { ...p, checks: p.checks.map(([n, description, runc, pxoci]) => ({ n, description, results: { runc, pxoci } })) }]),
  );
  const counts = (r) => (r.error ? `no checks: ${esc(r.error)}` : `${r.ok} / ${r.notOk} / ${r.skip}`) + (r.exit !== 0 ? ` (exit ${r.exit})` : '');
  const gaps = [];
  // Matched against the check, or against what pxoci said when the program's create failed.
  const reason = (program, ...texts) => {
    const known = VALIDATION_DIFFERENCES.find((d) => d.program === program && texts.some((t) => t?.startsWith(d.check)));
    return known ? `[${known.difference}](#${known.difference})` : '**none documented: a pxoci bug**';
  };
  for (const [program, p] of Object.entries(programs)) {
    // A program that fails on runc by its own verdict (exit status) passes nothing there.
    if (p.runs.runc.exit !== 0) continue;
    const passedOnRunc = p.checks.filter((c) => c.results.runc === 'ok');
    // A pxoci run that reached no check (create refused the config) is one row, with pxoci's reason.
    if (p.runs.pxoci.error) {
      if (passedOnRunc.length) gaps.push(`| ${program} | all | the ${passedOnRunc.length} checks runc passes | no checks: ${esc(p.runs.pxoci.error)} | ${reason(program, p.runs.pxoci.error)} |`);
      continue;
    }
    for (const c of passedOnRunc) {
      if (c.results.pxoci === 'ok') continue;
      gaps.push(`| ${program} | ${c.n} | ${esc(c.description)} | ${c.results.pxoci ?? 'not reached'}${p.runs.pxoci.runtimeError ? `: ${esc(p.runs.pxoci.runtimeError)}` : ''} | ${reason(program, c.description, p.runs.pxoci.runtimeError)} |`);
    }
  }
  return [
    '## OCI runtime-tools validation suite',
    '',
    '`scripts/oci-validation.sh` runs the validation programs of the user\'s runtime-tools checkout against runc and',
    'against pxoci on a simulated PVE node; `conformance/results/oci-validation.txt` has every check. Versions:',
    '',
    ...versions.map((v) => `- ${esc(v)}`),
    '',
    '| program | runc ok / not ok / skip | pxoci ok / not ok / skip |',
    '|---|---|---|',
    ...Object.entries(programs).map(([program, p]) => `| ${program} | ${counts(p.runs.runc)} | ${counts(p.runs.pxoci)} |`),
    '',
    '### Checks runc passes and pxoci does not',
    '',
    ...(gaps.length ? ['| program | # | check | pxoci | reason |', '|---|---|---|---|---|', ...gaps] : ['None.']),
    '',
  ];
}
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
