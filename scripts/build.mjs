#!/usr/bin/env node
// Builds everything pxoci runs: the bundled CLIs and the
// native helpers Node cannot replace (flock, SCM_RIGHTS, ptys, the in-container init).
import { build, transform } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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
// call that parses 800 KB of JavaScript it never runs pays for it on every `state`. Everything in dist/
// is CommonJS (dist/package.json says so): Node's ES module loader alone adds ~10 ms to every start-up,
// which a runtime started for each engine call, and the simulator's pct started for each CT operation,
// pay again and again. esbuild splits only ES modules, so pxoci is split as ES modules first and each
// piece then becomes a CommonJS file, its dynamic import() a require() on first use.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  define: { __PXOCI_VERSION__: JSON.stringify(pkg.version), __PXOCI_COMMIT__: JSON.stringify(commit) },
};
// helperPath and pvesim find dist/ from their own file's URL.
const fileUrl = { 'import.meta.url': '__pxociFileUrl' };
const fileUrlBanner = "var __pxociFileUrl = require('node:url').pathToFileURL(__filename).href;";

writeFileSync(join(dist, 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');
const chunks = join(dist, 'pxoci-lib');
rmSync(chunks, { recursive: true, force: true });
const split = await build({
  ...common,
  format: 'esm',
  entryPoints: { pxoci: join(top, 'src/main.ts') },
  outdir: dist,
  splitting: true,
  write: false,
  // Less text to parse on every call; identifiers stay, so stack traces (--debug) still read.
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'pxoci-lib/[name]-[hash]',
});
for (const file of split.outputFiles) {
  const { code } = await transform(file.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    define: file.text.includes('import.meta.url') ? fileUrl : {},
    minifyWhitespace: true,
    logLevel: 'warning',
  });
  // The entry's own hashbang (src/main.ts) stays first; ES modules are strict code, and so stays each piece.
  const banner = '"use strict";\n' + (file.text.includes('import.meta.url') ? fileUrlBanner + '\n' : '');
  const text = code.startsWith('#!') ? code.replace(/^(#![^\n]*\n)/, `$1${banner}`) : banner + code;
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, text);
}
chmodSync(join(dist, 'pxoci.js'), 0o755);

const tools = {
  pvesim: 'src/pvesim/pvesim.ts',
  pct: 'src/pvesim/pct.ts',
  pvesh: 'src/pvesim/pvesh.ts',
  'lxc-hooks': 'src/pvesim/lxc-hooks.ts',
};
for (const [name, entry] of Object.entries(tools)) {
  if (!existsSync(join(top, entry))) continue;
  const out = join(dist, `${name}.js`);
  // import() becomes require() here too: a real one sets up Node's ES module loader (~2 ms) on the
  // simulator's every locking call.
  await build({
    ...common,
    format: 'cjs',
    supported: { 'dynamic-import': false },
    define: { ...common.define, ...fileUrl },
    entryPoints: [join(top, entry)],
    outfile: out,
    banner: { js: `#!/usr/bin/env node\n"use strict";\n${fileUrlBanner}` },
  });
  chmodSync(out, 0o755);
}

// The native pieces. `pxoci` is the command engines run: a native front that answers `state` and
// `--version` itself and hands the rest to pxoci.js (native/front.c); its command-line table and its
// container-id check are rendered from src/cli/front-table.ts. pxoci-procfacts.node gives the Node side
// the front's reading of processes (native/procfacts.c), so a status has one author. pxoci-helper
// (native/helper-main.c, one file per command) and pxoci-init (native/init-*.c) do what Node cannot.
const cc = process.env.CC ?? 'cc';
const cflags = ['-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE'];
const native = (...files) => files.map((f) => join(top, 'native', f));
const gen = mkdtempSync(join(tmpdir(), 'pxoci-build-'));
try {
  const tableJs = join(gen, 'front-table.cjs');
  await build({ ...common, format: 'cjs', define: { ...common.define, ...fileUrl }, entryPoints: [join(top, 'src/cli/front-table.ts')], outfile: tableJs, banner: { js: fileUrlBanner } });
  const { frontHeader } = createRequire(import.meta.url)(tableJs);
  writeFileSync(join(gen, 'front-table.h'), frontHeader(process.execPath));
  // Each binary's own files first, then the ones it shares: io.c (whole reads and writes) and wire.c
  // (the init.sock frames, spoken by the keeper and the init).
  const targets = [
    {
      out: 'pxoci-helper',
      sources: native('helper-main.c', 'lock.c', 'keeper.c', 'keeper-ct.c', 'ct-join.c', 'run.c', 'nsexec.c', 'reaper.c', 'mount-hook.c', 'ct-setup.c', 'in-root.c', 'console-socket.c', 'exit-status.c', 'wire.c', 'io.c'),
      flags: [],
    },
    { out: 'pxoci', sources: native('front.c', 'procfacts.c', 'io.c'), flags: ['-I', gen] },
    {
      out: 'pxoci-procfacts.node',
      sources: native('procfacts-node.c', 'procfacts.c', 'io.c'),
      // Node-API symbols come from the node process that loads it.
      flags: ['-shared', '-fPIC', '-I', join(top, 'node_modules/node-api-headers/include')],
    },
    // Static: it runs inside whatever rootfs the bundle brings, which may have no libc at all. One
    // binary for PID 1 and for exec'd processes, because the CT is given one file.
    {
      out: 'pxoci-init',
      sources: native('init-main.c', 'init-pid1.c', 'init-exec.c', 'init-spec.c', 'init-process.c', 'init-hooks.c', 'init-keeper.c', 'wire.c'),
      flags: ['-static'],
    },
  ];
  for (const { out, sources, flags } of targets) {
    execFileSync(cc, [...cflags, ...flags, '-o', join(dist, out), ...sources], { stdio: 'inherit' });
  }
} finally {
  rmSync(gen, { recursive: true, force: true });
}
