#!/usr/bin/env node
// pxoci against runc on the same bundle, measured side by side in one run (medians of N rounds):
//   --version, state, kill (signal 0-like SIGCONT to a running container), create+start+delete,
//   and LXC's own start time (lxc-start directly) to isolate pxoci's overhead.
// Usage: node scripts/bench.mjs [rounds]   (root; after `npm run build`)
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? 10);
const pxociJs = join(top, 'dist/pxoci.js');
const work = mkdtempSync(join(tmpdir(), 'pxoci-bench-'));
const simRoot = join(work, 'node');
const errFile = join(work, 'stderr');

function sh(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const env = { ...process.env };
for (const line of sh(process.execPath, [join(top, 'dist/pvesim.js'), 'env', '--root', simRoot]).split('\n')) {
  const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
  if (m) env[m[1]] = m[2].replace(/"\$PATH"/g, process.env.PATH ?? '').replace(/'([^']*)'/g, '$1');
}
const bundle = join(work, 'bundle');
mkdirSync(bundle);
sh('sh', [join(top, 'scripts/make-busybox-rootfs.sh'), join(bundle, 'rootfs')]);
const spec = {
  ociVersion: '1.2.0',
  process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['sleep', '1000'], env: ['PATH=/bin'], cwd: '/' },
  root: { path: 'rootfs' },
  hostname: 'bench',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
  ],
  linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
};
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

const runtimes = {
  runc: (args) => ['/usr/sbin/runc', ['--root', join(work, 'runc-state'), ...args]],
  pxoci: (args) => [process.execPath, [pxociJs, '--root', join(work, 'pxoci-state'), ...args]],
};
const results = {};
for (const [name, cmd] of Object.entries(runtimes)) {
  const run = (...args) => {
    const [c, a] = cmd(args);
    // The container inherits create's stdio: a file, not a pipe spawnSync would wait on.
    const errFd = openSync(errFile, 'w');
    const r = spawnSync(c, a, { env, cwd: bundle, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    if (r.status !== 0) throw new Error(`${name} ${args.join(' ')}: ${readFileSync(errFile, 'utf8')}`);
  };
  const m = { version: [], state: [], kill: [], lifecycle: [] };
  for (let i = 0; i < rounds; i++) {
    const id = `bench-${name}-${i}`;
    m.version.push(time(() => run('--version')));
    m.lifecycle.push(
      time(() => {
        run('create', '--bundle', bundle, id);
        run('start', id);
      }),
    );
    m.state.push(time(() => run('state', id)));
    m.kill.push(time(() => run('kill', id, 'CONT')));
    m.lifecycle[i] += time(() => run('delete', '--force', id));
  }
  results[name] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
}

// LXC's own start+stop of an equivalent CT, which pxoci's create+start+delete necessarily contains.
const lxcPath = join(work, 'lxc');
mkdirSync(join(lxcPath, 'b'), { recursive: true });
writeFileSync(
  join(lxcPath, 'b/config'),
  [
    'lxc.uts.name = b',
    `lxc.rootfs.path = dir:${join(bundle, 'rootfs')}`,
    'lxc.include = /usr/share/lxc/config/common.conf',
    'lxc.apparmor.profile = unconfined',
    'lxc.net.0.type = empty',
    'lxc.init.cmd = /bin/sleep 1000',
    '',
  ].join('\n'),
);
const lxcTimes = [];
for (let i = 0; i < rounds; i++) {
  lxcTimes.push(
    time(() => {
      sh('/usr/bin/lxc-start', ['-P', lxcPath, '-n', 'b']);
      sh('/usr/bin/lxc-wait', ['-P', lxcPath, '-n', 'b', '-s', 'RUNNING']);
      sh('/usr/bin/lxc-stop', ['-P', lxcPath, '-n', 'b', '-k']);
    }),
  );
}
const lxc = median(lxcTimes);
spawnSync(process.execPath, [join(top, 'dist/pvesim.js'), 'down', '--root', simRoot]);
rmSync(work, { recursive: true, force: true });

const r = results;
const fmt = (x) => `${x.toFixed(1)} ms`;
const rows = [
  ['--version', r.pxoci.version, r.runc.version, 'pxoci ≤ 50 ms'],
  ['state', r.pxoci.state, r.runc.state, 'ratio ≤ 3'],
  ['kill', r.pxoci.kill, r.runc.kill, ''],
  ['create+start+delete', r.pxoci.lifecycle, r.runc.lifecycle, ''],
];
console.log(`medians of ${rounds} rounds on ${process.arch}, node ${process.version}`);
console.log('command'.padEnd(22) + 'pxoci'.padStart(12) + 'runc'.padStart(12) + 'ratio'.padStart(9) + '  target');
for (const [name, p, q, target] of rows) {
  console.log(name.padEnd(22) + fmt(p).padStart(12) + fmt(q).padStart(12) + (p / q).toFixed(2).padStart(9) + '  ' + target);
}
console.log(`lxc-start+wait+stop alone: ${fmt(lxc)}`);
console.log(`pxoci overhead in create+start+delete beyond LXC: ${fmt(r.pxoci.lifecycle - lxc)} (target ≤ 150 ms)`);
