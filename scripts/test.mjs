#!/usr/bin/env node
// `npm test`: build, the type check (tsc --noEmit), every tap suite (unit, simulator, lifecycle,
// engines, conformance on pxoci) on a simulated PVE 9 node, the lifecycle and conformance suites again
// on PVE 8.4, the conformance suites against runc, scripts/pve-check.sh on simulated PVE 9 and 8 nodes,
// then the check that docs/fields.md matches the committed results. Ends with one line adding up the tap
// runs and the type check, which counts as one test: "tests: N passed, N failed".
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const tap = join(top, 'node_modules/.bin/tap');
const tsc = join(top, 'node_modules/.bin/tsc');
// counted: 'tap' adds up the run's own summary; 'one' counts the whole step as one test; 'check' adds
// up pve-check's "pve-check: N of M checks passed". A counted step that fails does not stop the run:
// esbuild bundles without checking types, so the suites still say something when tsc does not pass,
// and the failure stays in the count and the exit status.
// The suites run under pxoci-helper's child subreaper, as pxoci runs under an engine's (conmon, the
// containerd shim) or a PVE node's PID 1: a container's keeper is orphaned by design and its CT's stop
// waits until it is reaped, which some VMs' PID 1 does only every ~2 s (native/reaper.c).
const reaper = [join(top, 'dist/pxoci-helper'), 'reaper', '--'];
const conformance = ['conformance/oci.test.ts', 'conformance/mounts.test.ts', 'conformance/hooks-seccomp.test.ts'];
const steps = [
  { name: 'build', argv: [process.execPath, join(top, 'scripts/build.mjs')] },
  { name: 'typecheck', argv: [tsc, '--noEmit', '-p', '.'], counted: 'one' },
  { name: 'tap', argv: [...reaper, tap], counted: 'tap' },
  { name: 'lifecycle and conformance on PVE 8', argv: [...reaper, tap, 'test/lifecycle.test.ts', ...conformance], env: { PXOCI_TEST_PVE: '8' }, counted: 'tap' },
  { name: 'conformance vs runc', argv: [...reaper, tap, ...conformance], env: { RUNTIME: '/usr/sbin/runc' }, counted: 'tap' },
  { name: 'pve-check on pvesim 9', argv: [...reaper, 'bash', join(top, 'scripts/pve-check.sh'), '--pvesim', '9'], counted: 'check' },
  { name: 'pve-check on pvesim 8', argv: [...reaper, 'bash', join(top, 'scripts/pve-check.sh'), '--pvesim', '8'], counted: 'check' },
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
      const code = signal ? 1 : (c ?? 1);
      // node-tap closes with "# { total: N, pass: N[, fail: N][, skip: N] }"
      const m = step.counted === 'tap' ? [...tail.matchAll(/^# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/gm)].at(-1) : undefined;
      const checks = step.counted === 'check' ? /^pve-check: (\d+) of (\d+) checks passed$/m.exec(tail) : undefined;
      if (checks) {
        passed += Number(checks[1]);
        failed += Number(checks[2]) - Number(checks[1]);
      } else if (step.counted === 'check') {
        failed += 1; // a check run that ended without its summary counts as a failure
      } else if (m) {
        passed += Number(m[2]);
        failed += Number(m[3] ?? 0);
      } else if (step.counted === 'tap') {
        failed += 1; // a run that ended without its summary counts as a failure
      } else if (step.counted === 'one') {
        if (code === 0) passed += 1;
        else failed += 1;
      }
      resolve(code);
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
