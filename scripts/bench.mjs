#!/usr/bin/env node
// pxoci against runc, measured side by side in one run (medians; each round runs both runtimes back to
// back, so load from elsewhere on the machine hits both alike):
//   --version, state, kill (SIGCONT to a running container), create+start+delete on the same bundle,
//   LXC's own start+stop of an equivalent plain container (lxc-start/lxc-stop directly) in the same
//   rounds, hence pxoci's overhead beyond LXC and pct, and `podman run --rm` with each runtime (private
//   podman storage, cleaned up).
// A report, not a test: exit 0 whether or not a target is met; non-zero only if a measurement fails. A
// figure that cannot be measured validly is printed as INVALID, with the reason, and is not met.
// Usage (root, after `npm run build`): node scripts/bench.mjs [--quick] [--rounds N] [--no-podman]
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);

// Engines run pxoci under a child subreaper (conmon, the containerd shim), and a PVE node's PID 1 reaps
// at once; a container's keeper is orphaned by design and the CT's stop waits until it is reaped. Some
// VMs' PID 1 reaps only every ~2 s, which would be measured as pxoci's: the report runs under pxoci's
// own subreaper, as pxoci runs on a node.
if (process.env.PXOCI_BENCH_REAPER !== '1') {
  const helper = join(top, 'dist/pxoci-helper');
  if (!existsSync(helper)) {
    console.error(`bench failed: ${helper} is missing (npm run build?)`);
    process.exit(1);
  }
  const r = spawnSync(helper, ['reaper', '--', process.execPath, fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit', env: { ...process.env, PXOCI_BENCH_REAPER: '1' } });
  process.exit(r.status ?? 1);
}
const quick = argv.includes('--quick');
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : quick ? 3 : 10;
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds needs a positive integer');
const withPodman = !argv.includes('--no-podman');
// What engines run: the native front (it answers state and --version, and starts Node for the rest).
const pxociBin = join(top, 'dist/pxoci');
const pxociJs = join(top, 'dist/pxoci.js');
const runcBin = '/usr/sbin/runc';
const podmanBin = '/usr/bin/podman';

// Variables that change every Node start-up but are no part of pxoci: NODE_EXTRA_CA_CERTS makes Node
// parse its whole CA store before running a line (tens of ms), NODE_OPTIONS can load anything. An
// engine on a PVE node runs pxoci without them; their cost here is measured and printed apart.
const nodeStartupVars = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];
const baseEnv = { ...process.env };
for (const v of nodeStartupVars) delete baseEnv[v];

const work = mkdtempSync(join(tmpdir(), 'pxoci-bench-'));
const simRoot = join(work, 'node');
const errFile = join(work, 'stderr');
const pctTimes = join(work, 'pct-times');
const cleanups = [];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { env: baseEnv, encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}
function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/**
 * A private simulated PVE node. Its `pct` is wrapped to log how long each call takes: on a real node pct
 * is PVE's Perl, here it is the simulator's Node program, and neither is pxoci's own time.
 */
function simulatedNode() {
  const env = { ...baseEnv };
  for (const line of sh(process.execPath, [join(top, 'dist/pvesim.js'), 'env', '--root', simRoot]).split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/"\$PATH"|\$PATH/g, baseEnv.PATH ?? '').replace(/'([^']*)'/g, '$1');
  }
  cleanups.push(() => spawnSync(process.execPath, [join(top, 'dist/pvesim.js'), 'down', '--root', simRoot]));
  const pct = join(simRoot, 'usr/sbin/pct');
  renameSync(pct, `${pct}.untimed`);
  writeFileSync(
    pct,
    `#!/bin/sh\nt0=$(date +%s%N)\n'${pct}.untimed' "$@"\nrc=$?\necho "$1 $t0 $(date +%s%N)" >> '${pctTimes}'\nexit $rc\n`,
  );
  chmodSync(pct, 0o755);
  return env;
}

/** Milliseconds spent in pct since the last call, by subcommand. */
function takePctTimes() {
  const spent = {};
  if (!existsSync(pctTimes)) return spent;
  for (const line of readFileSync(pctTimes, 'utf8').split('\n')) {
    const [sub, t0, t1] = line.split(' ');
    if (t1) spent[sub] = (spent[sub] ?? 0) + Number(BigInt(t1) - BigInt(t0)) / 1e6;
  }
  rmSync(pctTimes);
  return spent;
}

function makeBundle() {
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
  return bundle;
}

/** One runtime call as an engine makes it: a new process, stdio on files (the container inherits them). */
function runtimeCall(name, [cmd, ...fixed], globals, env, cwd) {
  const call = (args) => {
    const errFd = openSync(errFile, 'w');
    const r = spawnSync(cmd, [...fixed, ...args], { env, cwd, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    if (r.status !== 0) throw new Error(`${name} ${args.join(' ')}: ${r.error?.message ?? readFileSync(errFile, 'utf8')}`);
  };
  const run = (...args) => call([...globals, ...args]);
  /** Without global options, as engines ask for the version. */
  run.bare = (...args) => call(args);
  return run;
}

function benchRuntimes(env, bundle, plainLxcRound) {
  const runtimes = {
    pxoci: runtimeCall('pxoci', [pxociBin], ['--root', join(work, 'pxoci-state')], env, bundle),
    runc: runtimeCall('runc', [runcBin], ['--root', join(work, 'runc-state')], env, bundle),
  };
  const live = new Set();
  cleanups.push(() => {
    for (const key of live) {
      const [name, id] = key.split('\0');
      try {
        runtimes[name]('delete', '--force', id);
      } catch {
        // already gone
      }
    }
  });
  const up = (name, id) => {
    live.add(`${name}\0${id}`);
    runtimes[name]('create', '--bundle', bundle, id);
    runtimes[name]('start', id);
  };
  const down = (name, id) => {
    runtimes[name]('delete', '--force', id);
    live.delete(`${name}\0${id}`);
  };
  const m = {};
  for (const name of Object.keys(runtimes)) m[name] = { version: [], state: [], kill: [], create: [], start: [], delete: [], lifecycle: [] };
  // The quick calls on one running container each, apart from any create or delete: a CT being set up
  // or torn down meanwhile would load the 2 cores and blur what one call costs.
  for (const name of Object.keys(runtimes)) up(name, `bench-${name}-quick`);
  takePctTimes();
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(runtimes)) {
      const id = `bench-${name}-quick`;
      m[name].version.push(time(() => run.bare('--version')));
      m[name].state.push(time(() => run('state', id)));
      m[name].kill.push(time(() => run('kill', id, 'CONT')));
    }
  }
  for (const name of Object.keys(runtimes)) down(name, `bench-${name}-quick`);
  const pctInLifecycle = [];
  // pxoci's own overhead is its create+start+delete less LXC's stop and pct in that round: parts
  // measured in other rounds, under other load, can add up to more than the whole.
  const lxc = { start: [], stop: [] };
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(runtimes)) {
      const id = `bench-${name}-${i}`;
      const r = m[name];
      takePctTimes();
      live.add(`${name}\0${id}`);
      r.create.push(time(() => run('create', '--bundle', bundle, id)));
      r.start.push(time(() => run('start', id)));
      r.delete.push(time(() => down(name, id)));
      r.lifecycle.push(r.create[i] + r.start[i] + r.delete[i]);
      if (name === 'pxoci') pctInLifecycle.push(takePctTimes());
    }
    const { start, stop } = plainLxcRound();
    lxc.start.push(start);
    lxc.stop.push(stop);
  }
  return { m, pctInLifecycle, lxc };
}

/** LXC's own start+stop of a plain container on the same rootfs: what any CT start costs before pxoci.
 *  Returns one round's measurement. */
function plainLxc(bundle) {
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
  cleanups.push(() => spawnSync('/usr/bin/lxc-stop', ['-P', lxcPath, '-n', 'b', '-k']));
  return () => ({
    start: time(() => {
      sh('/usr/bin/lxc-start', ['-P', lxcPath, '-n', 'b']);
      sh('/usr/bin/lxc-wait', ['-P', lxcPath, '-n', 'b', '-s', 'RUNNING']);
    }),
    stop: time(() => sh('/usr/bin/lxc-stop', ['-P', lxcPath, '-n', 'b', '-k'])),
  });
}

/** `podman run --rm` through each runtime; podman's storage, run and tmp dirs private to this run. */
function benchPodman(simEnv, bundle) {
  const dir = join(work, 'podman');
  mkdirSync(dir);
  // podman passes runtimes no PVE environment and no PATH worth relying on: wrappers with absolute paths
  // carry both, alike for both runtimes so neither pays for a shell the other does not.
  const wrapper = (name, command) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${command} "$@"\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const pxociWrapper = wrapper(
    'pxoci',
    `PXOCI_PVE_ROOT='${simEnv.PXOCI_PVE_ROOT}' PXOCI_PVE_NODE='${simEnv.PXOCI_PVE_NODE}' exec '${pxociBin}' --root '${join(dir, 'pxoci-state')}'`,
  );
  const runcWrapper = wrapper('runc', `exec '${runcBin}' --root '${join(dir, 'runc-state')}'`);
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      // The simulated node's limits are below podman's defaults, which runc then may not raise.
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'runtime_supports_json = ["crun", "runc", "pxoci"]',
      '[engine.runtimes]',
      `pxoci = ["${pxociWrapper}"]`,
      `runc = ["${runcWrapper}"]`,
      '',
    ].join('\n'),
  );
  const env = { ...simEnv, CONTAINERS_CONF: conf };
  const global = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp')];
  global.push('--cgroup-manager', 'cgroupfs', '--events-backend', 'none');
  const podman = (...args) => sh(podmanBin, [...global, ...args], { env });
  cleanups.push(() => {
    spawnSync(podmanBin, [...global, 'rm', '-af', '-t', '0'], { env });
    spawnSync(podmanBin, [...global, 'system', 'reset', '-f'], { env });
    // The overlay driver keeps its home bind-mounted; nothing of it may outlive the work dir.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p) => p && p.startsWith(dir + '/'))
      .sort((a, b) => b.length - a.length);
    for (const p of mounts) spawnSync('umount', ['-l', p]);
  });
  const image = 'localhost/pxoci-bench-busybox:latest';
  podman('import', join(bundle, 'rootfs') + '.tar', image);
  const times = { pxoci: [], runc: [] };
  // One unmeasured run each: podman's first run sets up its storage and runtime dirs.
  for (const name of Object.keys(times)) podman('--runtime', name, 'run', '--rm', '--network', 'none', image, 'true');
  for (let i = 0; i < rounds; i++) {
    for (const name of Object.keys(times)) {
      times[name].push(time(() => podman('--runtime', name, 'run', '--rm', '--network', 'none', image, 'true')));
    }
  }
  return times;
}

/** What NODE_EXTRA_CA_CERTS & co., as set in the caller's environment, add to one pxoci call that
 *  starts Node (the front's own answers start none): the Node side's --version. */
function benchNodeStartupVars() {
  const set = nodeStartupVars.filter((v) => process.env[v] !== undefined);
  if (set.length === 0) return undefined;
  const withVars = [];
  const without = [];
  for (let i = 0; i < rounds; i++) {
    withVars.push(time(() => sh(process.execPath, [pxociJs, '--version'], { env: process.env })));
    without.push(time(() => sh(process.execPath, [pxociJs, '--version'])));
  }
  return { set, with: median(withVars), without: median(without) };
}

const fmt = (x) => (x === undefined ? '' : `${x.toFixed(1)} ms`);

/**
 * A whole less its parts, each round from that round's own measurements, then the median: `{ ms }`, or
 * `{ invalid }` saying why not. A round below zero, or one whose parts were not all measured, has
 * measured something else than the figure (a part disturbed by more than the figure's size); the median
 * of the remaining rounds would lean towards the low ones, so the figure as a whole is invalid.
 */
function perRoundDifference(wholeName, wholes, partsByRound) {
  const differences = [];
  const problems = [];
  wholes.forEach((whole, i) => {
    const parts = partsByRound[i];
    const missing = Object.keys(parts).filter((k) => !Number.isFinite(parts[k]));
    if (missing.length > 0) {
      problems.push(`round ${i + 1}: ${missing.join(', ')} not measured`);
      return;
    }
    const d = whole - Object.values(parts).reduce((a, b) => a + b, 0);
    differences.push(d);
    if (!(d >= 0)) {
      const terms = Object.entries(parts).map(([k, v]) => ` − ${k} ${fmt(v)}`);
      problems.push(`round ${i + 1}: ${wholeName} ${fmt(whole)}${terms.join('')} = ${fmt(d)}`);
    }
  });
  return problems.length > 0 ? { invalid: problems.join('; ') } : { ms: median(differences) };
}

function report({ m, pctInLifecycle, lxc }, podmanTimes, startupVars) {
  const p = Object.fromEntries(Object.entries(m.pxoci).map(([k, v]) => [k, median(v)]));
  const r = Object.fromEntries(Object.entries(m.runc).map(([k, v]) => [k, median(v)]));
  // Only a figure that is there and not below zero can meet a target.
  const verdict = (x, limit) => (Number.isFinite(x) && x >= 0 && x <= limit ? 'met' : 'NOT met');
  const shown = (figure) => (figure.invalid === undefined ? fmt(figure.ms) : `INVALID (${figure.invalid})`);
  const rows = [
    ['--version', p.version, r.version, `pxoci ≤ 50 ms: ${verdict(p.version, 50)}`],
    ['state', p.state, r.state, `ratio ≤ 3: ${verdict(p.state / r.state, 3)}`],
    ['kill', p.kill, r.kill, ''],
    ['create', p.create, r.create, ''],
    ['start', p.start, r.start, ''],
    ['delete --force', p.delete, r.delete, ''],
    ['create+start+delete', median(m.pxoci.lifecycle), median(m.runc.lifecycle), ''],
  ];
  if (podmanTimes) rows.push(['podman run --rm', median(podmanTimes.pxoci), median(podmanTimes.runc), '']);
  const model = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`medians of ${rounds} rounds; ${cpus().length} cores (${model}); node ${process.version}; ${process.arch}`);
  console.log('command'.padEnd(22) + 'pxoci'.padStart(11) + 'runc'.padStart(11) + 'ratio'.padStart(8) + '  target');
  for (const [name, a, b, target] of rows) {
    console.log(name.padEnd(22) + fmt(a).padStart(11) + fmt(b).padStart(11) + (a / b).toFixed(2).padStart(8) + '  ' + target);
  }
  // Where create+start+delete goes: LXC's own start (inside pct start) and stop (the CT ends when the
  // container process does, while delete waits), the simulator's pct (PVE's own tool; on a real node
  // its Perl takes longer still, and pxoci cannot leave it out: only pct start renders the LXC config),
  // and what is left: pxoci's own processes.
  const pctTime = median(pctInLifecycle.map((spent) => Object.values(spent).reduce((a, b) => a + b, 0)));
  const subcommands = [...new Set(pctInLifecycle.flatMap((spent) => Object.keys(spent)))];
  const each = subcommands.map((sub) => `${sub} ${fmt(median(pctInLifecycle.map((spent) => spent[sub] ?? 0)))}`);
  // Every create+start+delete runs pct start and pct destroy; one the wrapper did not time would count
  // pct's time as pxoci's. Any other pct call (a stop, when the CT outlives its process) counts as pct's.
  const own = perRoundDifference(
    'create+start+delete',
    m.pxoci.lifecycle,
    pctInLifecycle.map((spent, i) => {
      const { start, destroy, ...others } = spent;
      const parts = { 'pct start': start, 'pct destroy': destroy };
      for (const [sub, ms] of Object.entries(others)) parts[`pct ${sub}`] = ms;
      return { ...parts, 'lxc-stop': lxc.stop[i] };
    }),
  );
  const beyondLxc = perRoundDifference(
    'create+start+delete',
    m.pxoci.lifecycle,
    lxc.start.map((start, i) => ({ 'lxc-start': start, 'lxc-stop': lxc.stop[i] })),
  );
  console.log(`LXC's own (plain CT, same rootfs): start ${fmt(median(lxc.start))} (lxc-start, lxc-wait RUNNING), stop ${fmt(median(lxc.stop))} (lxc-stop -k)`);
  console.log(`pct (the simulator's Node program standing in for PVE's Perl pct), LXC's start included: ${fmt(pctTime)} (${each.join(', ')})`);
  console.log(`pxoci's own overhead in create+start+delete (beyond LXC and pct): ${shown(own)}  (≤ 150 ms: ${verdict(own.ms, 150)})`);
  console.log(`everything beyond LXC's own start+stop, pct included: ${shown(beyondLxc)}`);
  if (startupVars) {
    console.log(
      `note: ${startupVars.set.join(', ')} set in this environment; measured without it (as an engine on a PVE node ` +
        `runs pxoci). With it, a call that starts Node (the Node side's --version) takes ${fmt(startupVars.with)} instead of ${fmt(startupVars.without)}.`,
    );
  }
}

let failed = false;
try {
  for (const f of [pxociBin, pxociJs, join(top, 'dist/pvesim.js'), runcBin]) if (!existsSync(f)) throw new Error(`${f} is missing (npm run build?)`);
  const simEnv = simulatedNode();
  const bundle = makeBundle();
  const runtimes = benchRuntimes(simEnv, bundle, plainLxc(bundle));
  let podmanTimes;
  if (withPodman) {
    if (!existsSync(podmanBin)) throw new Error(`${podmanBin} is missing (or pass --no-podman)`);
    sh('tar', ['-C', join(bundle, 'rootfs'), '-cf', join(bundle, 'rootfs') + '.tar', '.']);
    podmanTimes = benchPodman(simEnv, bundle);
  }
  report(runtimes, podmanTimes, benchNodeStartupVars());
} catch (e) {
  failed = true;
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  for (const undo of cleanups.reverse()) {
    try {
      undo();
    } catch {
      // cleanup goes on with the next step
    }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
