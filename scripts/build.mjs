#!/usr/bin/env node
// Builds everything pxoci runs: the bundled CLIs and the
// native helpers Node cannot replace (flock, SCM_RIGHTS, ptys, the in-container init).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, existsSync, chmodSync, rmSync } from 'node:fs';
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

// pxoci is split: the entry file holds only what every call needs (the fast parser, --version, error
// reporting) and each command, yargs and the validators come as chunks loaded on first use, because a
// call that parses 800 KB of JavaScript it never runs pays for it on every `state`. The simulator's
// tools are single files: they are test fixtures, not on an engine's hot path.
const requireShim = "import { createRequire as __pxociCreateRequire } from 'node:module'; const require = __pxociCreateRequire(import.meta.url);";
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ssh2', 'cpu-features', '@grpc/grpc-js'],
  logLevel: 'warning',
  define: { __PXOCI_VERSION__: JSON.stringify(pkg.version), __PXOCI_COMMIT__: JSON.stringify(commit) },
};

const chunks = join(dist, 'pxoci-lib');
rmSync(chunks, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { pxoci: join(top, 'src/main.ts') },
  outdir: dist,
  splitting: true,
  // Less text to parse on every call; identifiers stay, so stack traces (--debug) still read.
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'pxoci-lib/[name]-[hash]',
  // The entry's own hashbang (src/main.ts) stays first; chunks need no hashbang.
  banner: { js: requireShim },
});
chmodSync(join(dist, 'pxoci.js'), 0o755);

const tools = {
  pvesim: 'conformance/pvesim/main.ts',
  pct: 'conformance/pvesim/pct.ts',
  pvesh: 'conformance/pvesim/pvesh.ts',
};
for (const [name, entry] of Object.entries(tools)) {
  if (!existsSync(join(top, entry))) continue;
  const out = join(dist, `${name}.js`);
  await build({ ...common, entryPoints: [join(top, entry)], outfile: out, banner: { js: `#!/usr/bin/env node\n${requireShim}` } });
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
