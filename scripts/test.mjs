#!/usr/bin/env node
// `npm test`: build, every tap suite (unit, simulator, lifecycle, engines, conformance on pxoci), the
// conformance suites against runc, then the check that docs/fields.md matches the committed results.
// Ends with one line adding up the tap runs: "tests: N passed, N failed".
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const tap = join(top, 'node_modules/.bin/tap');
const steps = [
  { name: 'build', argv: [process.execPath, join(top, 'scripts/build.mjs')] },
  { name: 'tap', argv: [tap], counted: true },
  { name: 'conformance vs runc', argv: [tap, 'conformance/oci.test.ts', 'conformance/hooks-seccomp.test.ts'], env: { RUNTIME: '/usr/sbin/runc' }, counted: true },
  { name: 'docs/fields.md', argv: [process.execPath, join(top, 'scripts/gen-fields-doc.mjs'), '--check'] },
];

let passed = 0;
let failed = 0;
let status = 0;
for (const step of steps) {
  const code = await new Promise((resolve) => {
    const child = spawn(step.argv[0], step.argv.slice(1), { cwd: top, env: { ...process.env, ...step.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d.toString('utf8')).slice(-4096);
    });
    child.on('close', (c, signal) => {
      // node-tap closes with "# { total: N, pass: N[, fail: N][, skip: N] }"
      const m = step.counted ? [...tail.matchAll(/^# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/gm)].at(-1) : undefined;
      if (m) {
        passed += Number(m[2]);
        failed += Number(m[3] ?? 0);
      } else if (step.counted) {
        failed += 1; // a run that ended without its summary counts as a failure
      }
      resolve(signal ? 1 : (c ?? 1));
    });
  });
  if (code !== 0) {
    process.stdout.write(`\n${step.name} failed (exit ${code})\n`);
    status = 1;
    if (!step.counted) break;
  }
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
process.exit(status);
