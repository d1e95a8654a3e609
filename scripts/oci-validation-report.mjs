#!/usr/bin/env node
// Reads what scripts/oci-validation.sh left in WORK (tap/<runtime>/<program>.{tap,stderr,exit,seconds}
// and versions), prints one table per program (each check: ok / not ok / skip for runc and pxoci), and
// writes it to RESULTS_FILE (.txt) with the same data as JSON beside it (.json), which
// scripts/gen-fields-doc.mjs shows in docs/fields.md.
//   node scripts/oci-validation-report.mjs WORK RESULTS_FILE.txt
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [work, resultsFile] = process.argv.slice(2);
if (!work || !resultsFile?.endsWith('.txt')) {
  console.error('usage: oci-validation-report.mjs WORK RESULTS_FILE.txt');
  process.exit(2);
}
const RUNTIMES = ['runc', 'pxoci'];
const read = (path, fallback = '') => (existsSync(path) ? readFileSync(path, 'utf8') : fallback);

/** The top-level test points of a TAP stream: YAML blocks and nested output are indented. */
function parseTap(text) {
  const points = [];
  for (const line of text.split('\n')) {
    const m = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*?)\s*$/.exec(line);
    if (!m) continue;
    let description = m[3];
    let result = m[1];
    const directive = /^(.*?)\s*#\s*(skip|todo)\b\s*(.*)$/i.exec(description);
    if (directive) {
      if (directive[2].toLowerCase() === 'skip') result = 'skip';
      description = directive[1] || directive[3];
    }
    points.push({ n: Number(m[2] ?? points.length + 1), description, result });
  }
  return points;
}

const programs = [...new Set(RUNTIMES.flatMap((rt) => (existsSync(join(work, 'tap', rt)) ? readdirSync(join(work, 'tap', rt)) : [])))]
  .filter((f) => f.endsWith('.tap'))
  .map((f) => f.slice(0, -4))
  .sort();

const data = { versions: read(join(work, 'versions')).trim().split('\n').filter(Boolean), programs: {} };
for (const program of programs) {
  const runs = {};
  for (const rt of RUNTIMES) {
    const base = join(work, 'tap', rt, program);
    const tap = read(`${base}.tap`);
    const points = parseTap(tap);
    const stderr = read(`${base}.stderr`).trim().split('\n').filter(Boolean);
    const exit = Number(read(`${base}.exit`, 'NaN'));
    // What the runtime said when the program's create or start failed (the line after runtime-tools' own).
    const failedAt = stderr.findIndex((l) => /^failed to (create|start) the container$/.test(l));
    const runtimeError = failedAt >= 0 ? stderr[failedAt + 1] : undefined;
    // A program that stops before any check (Fatal) says why in a top-level YAML "error", or on stderr.
    const diagnostic = /^ {4}"error": (".*"),?$/m.exec(tap)?.[1];
    runs[rt] = {
      exit,
      seconds: Number(read(`${base}.seconds`, 'NaN')),
      points,
      runtimeError,
      error: points.length ? undefined : diagnostic ? JSON.parse(diagnostic).split('\n')[0] : exit !== 0 ? (runtimeError ?? stderr.at(-1) ?? 'no output') : undefined,
    };
  }
  // One row per test point, matched by description and how often it came before: the numbers differ
  // when a program stops early, and some programs check in Go's map order, which changes every run.
  // Rows follow runc's order, then what only pxoci reported.
  const rows = new Map();
  for (const rt of RUNTIMES) {
    const seen = new Map();
    for (const p of runs[rt].points) {
      const k = (seen.get(p.description) ?? 0) + 1;
      seen.set(p.description, k);
      const key = `${p.description}\u0000${k}`;
      const row = rows.get(key) ?? { n: p.n, description: p.description, results: {} };
      row.results[rt] = p.result;
      rows.set(key, row);
    }
  }
  data.programs[program] = {
    runs: Object.fromEntries(RUNTIMES.map((rt) => [rt, { exit: runs[rt].exit, seconds: runs[rt].seconds, error: runs[rt].error, runtimeError: runs[rt].runtimeError, ...count(runs[rt].points) }])),
    checks: [...rows.values()],
  };
}

function count(points) {
  return {
    ok: points.filter((p) => p.result === 'ok').length,
    notOk: points.filter((p) => p.result === 'not ok').length,
    skip: points.filter((p) => p.result === 'skip').length,
  };
}

const summary = (r) =>
  (r.error ? `no checks: ${r.error} (exit ${r.exit}, ${r.seconds} s)` : `${r.ok} ok, ${r.notOk} not ok, ${r.skip} skip (exit ${r.exit}, ${r.seconds} s)`) +
  (r.runtimeError && !r.error ? `; the runtime said: ${r.runtimeError}` : '');
// Clean: exit 0, no "not ok", no error. A program that expects create to fail has no checks: its exit says.
const clean = (r) => !r.error && r.notOk === 0 && r.exit === 0;
const lines = [
  '# OCI runtime-tools validation: runc and pxoci (on a simulated PVE node) on the same host',
  '# written by scripts/oci-validation.sh; docs/fields.md shows the checks runc passes and pxoci does not',
  '# clean: the program exits 0 with no "not ok" and no error (one that expects create to fail prints no checks)',
  ...data.versions.map((v) => `# ${v}`),
  `# time in the programs: ${RUNTIMES.map((rt) => `${rt} ${Object.values(data.programs).reduce((s, p) => s + (p.runs[rt].seconds || 0), 0)} s`).join(', ')}`,
  `# programs clean (no "not ok", exit 0): ${RUNTIMES.map((rt) => `${rt} ${Object.values(data.programs).filter((p) => clean(p.runs[rt])).length}/${programs.length}`).join(', ')}`,
  `# test points: ${RUNTIMES.map((rt) => {
    const all = Object.values(data.programs).map((p) => p.runs[rt]);
    const sum = (k) => all.reduce((s, r) => s + r[k], 0);
    return `${rt} ${sum('ok')} ok / ${sum('notOk')} not ok / ${sum('skip')} skip`;
  }).join('; ')}`,
  '',
];
for (const [program, p] of Object.entries(data.programs)) {
  lines.push(`## ${program}`);
  for (const rt of RUNTIMES) lines.push(`${rt.padEnd(6)} ${summary(p.runs[rt])}`);
  lines.push(`${'#'.padStart(4)}  ${'runc'.padEnd(7)} ${'pxoci'.padEnd(7)} check (# is the TAP number in runc's run, else pxoci's)`);
  for (const c of p.checks) lines.push(`${String(c.n).padStart(4)}  ${(c.results.runc ?? '-').padEnd(7)} ${(c.results.pxoci ?? '-').padEnd(7)} ${c.description}`);
  lines.push('');
}
const text = lines.join('\n');
process.stdout.write(text);
writeFileSync(resultsFile, text);
// One line per program and per check ([n, description, runc, pxoci]; null where a runtime did not get
// there), so that a new run's diff shows what changed.
const json = [
  `{"versions": ${JSON.stringify(data.versions)}, "programs": {`,
  Object.entries(data.programs)
    .map(([program, p]) => {
      const checks = p.checks.map((c) => `  ${JSON.stringify([c.n, c.description, c.results.runc ?? null, c.results.pxoci ?? null])}`).join(',\n');
      return `${JSON.stringify(program)}: {"runs": ${JSON.stringify(p.runs)}, "checks": [\n${checks}\n]}`;
    })
    .join(',\n'),
  '}}',
].join('\n');
JSON.parse(json);
writeFileSync(resultsFile.replace(/\.txt$/, '.json'), json + '\n');
