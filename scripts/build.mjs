#!/usr/bin/env node
// Builds everything pxoci runs: the bundled CLIs (one file each, so start-up loads one module) and the
// native helpers Node cannot replace (flock, SCM_RIGHTS, ptys, the in-container init).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(top, 'dist');
mkdirSync(dist, { recursive: true });

const pkg = JSON.parse(readFileSync(join(top, 'package.json'), 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['-C', top, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // a tarball without .git
}

const entries = {
  pxoci: 'src/main.ts',
  pvesim: 'conformance/pvesim/main.ts',
  pct: 'conformance/pvesim/pct.ts',
  pvesh: 'conformance/pvesim/pvesh.ts',
};
for (const [name, entry] of Object.entries(entries)) {
  if (!existsSync(join(top, entry))) continue;
  const out = join(dist, `${name}.js`);
  await build({
    entryPoints: [join(top, entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __pxociCreateRequire } from 'node:module'; const require = __pxociCreateRequire(import.meta.url);",
    },
    external: ['ssh2', 'cpu-features', '@grpc/grpc-js'],
    logLevel: 'warning',
    define: { __PXOCI_VERSION__: JSON.stringify(pkg.version), __PXOCI_COMMIT__: JSON.stringify(commit) },
  });
  chmodSync(out, 0o755);
}

const cc = process.env.CC ?? 'cc';
const cflags = ['-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE'];
const helperSources = readdirSync(join(top, 'native'))
  .filter((f) => f.endsWith('.c') && f !== 'init.c')
  .map((f) => join(top, 'native', f));
execFileSync(cc, [...cflags, '-o', join(dist, 'pxoci-helper'), ...helperSources], { stdio: 'inherit' });
if (existsSync(join(top, 'native', 'init.c'))) {
  // Static: it runs inside whatever rootfs the bundle brings, which may have no libc at all.
  execFileSync(cc, [...cflags, '-static', '-o', join(dist, 'pxoci-init'), join(top, 'native', 'init.c')], {
    stdio: 'inherit',
  });
}
