// Runtime-agnostic OCI conformance checks, each observed from INSIDE the container.
//   RUNTIME=/usr/sbin/runc npx tap conformance/oci.test.ts      (runc, on the host)
//   npx tap conformance/oci.test.ts                              (pxoci on a simulated PVE node)
// The same checks pass on runc: that is the proof they test something real. Each check names the
// rows of src/oci/fields.ts it proves (conformance/harness.ts records the results per row).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBundle } from '../test/helpers/env.js';
import { hostBoundingGap } from '../test/helpers/node-checks.js';
import { sleep } from '../test/helpers/wait.js';
import { argv0, chownTree, env, isPxoci, runInside, runtime, runtimeArgs, runtimeName, work, check, type Run } from './harness.js';

const why = (r: Run) => r.createError ?? r.stderr;

/** Prints a cgroup file the way this host shows it to the container: v1 path first, then v2. */
const cgroupFile = (v1: string, v2: string) => `(cat /sys/fs/cgroup/${v1} 2>/dev/null || cat /sys/fs/cgroup/${v2} 2>/dev/null || echo missing)`;

/** Linux's dev_t encoding: major in bits 8-19, minor in bits 0-7 and 20-31. */
function deviceNumbers(dev: number) {
  const d = BigInt(dev);
  return { major: Number((d >> 8n) & 0xfffn), minor: Number((d & 0xffn) | ((d >> 12n) & 0xfff00n)) };
}
const hostDeviceNumbers = (path: string) => deviceNumbers(statSync(path).rdev);

// ---- lifecycle ----------------------------------------------------------------------------------

check('lifecycle MUSTs: created before start, process not run, state fields, stopped after exit', ['root.path', 'ociVersion'], async (t) => {
  const id = `conf-${runtimeName}-life`;
  const bundle = makeBundle(work, id, { args: ['sh', '-c', 'touch /ran'] });
  // The container inherits create's stdio: give it a file, not a pipe spawnSync would wait on.
  const errFile = join(work, `${id}.stderr`);
  const errFd = openSync(errFile, 'w');
  const c = spawnSync(argv0[0]!, runtimeArgs(['create', '--bundle', bundle, id]), {
    env,
    stdio: ['ignore', 'ignore', errFd],
  });
  closeSync(errFd);
  t.equal(c.status, 0, readFileSync(errFile, 'utf8'));
  const created = JSON.parse(runtime(['state', id]).stdout);
  t.equal(created.status, 'created');
  t.equal(created.id, id);
  t.equal(created.bundle, bundle);
  t.ok(created.pid > 0);
  t.match(created.ociVersion, /^1\./);
  t.notOk(existsSync(join(bundle, 'rootfs/ran')), 'process not run before start');
  t.equal(runtime(['start', id]).status, 0);
  for (let i = 0; i < 100 && JSON.parse(runtime(['state', id]).stdout).status !== 'stopped'; i++) await sleep(50);
  t.equal(JSON.parse(runtime(['state', id]).stdout).status, 'stopped');
  t.ok(existsSync(join(bundle, 'rootfs/ran')), 'process ran after start');
  t.equal(runtime(['delete', id]).status, 0);
  t.not(runtime(['state', id]).status, 0, 'state of a deleted container fails');
});

check('annotations are shown by state', ['annotations'], async (t) => {
  const id = `conf-${runtimeName}-annotations`;
  const bundle = makeBundle(work, id, { args: ['true'], patch: (s) => (s.annotations = { 'org.example.conformance': 'a value' }) });
  const errFile = join(work, `${id}.stderr`);
  const errFd = openSync(errFile, 'w');
  const c = spawnSync(argv0[0]!, runtimeArgs(['create', '--bundle', bundle, id]), { env, stdio: ['ignore', 'ignore', errFd] });
  closeSync(errFd);
  t.equal(c.status, 0, readFileSync(errFile, 'utf8'));
  t.same(JSON.parse(runtime(['state', id]).stdout).annotations, { 'org.example.conformance': 'a value' });
  t.equal(runtime(['delete', '--force', id]).status, 0);
});

check('stdout and stderr reach the caller separately', ['process.args'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'echo out; echo err >&2'] });
  t.equal(r.stdout, 'out\n');
  t.equal(r.stderr, 'err\n');
});

// ---- process ------------------------------------------------------------------------------------
check('process.args: an executable the process may not run fails create (as runc, exec: permission denied)', ['process.args'], async (t) => {
  const r = await runInside({ args: ['/etc/passwd'] });
  t.match(r.createError ?? 'create succeeded', /exec: \\?"\/etc\/passwd\\?": permission denied/);
});

check('process.cwd: a cwd missing from the image is made', ['process.cwd'], async (t) => {
  const r = await runInside({ args: ['pwd'], cwd: '/made/by/the/runtime' });
  t.equal(r.stdout, '/made/by/the/runtime\n', why(r));
});

check('process: args, env, cwd, user are applied', ['process.args', 'process.env', 'process.cwd', 'process.user.uid, gid, additionalGids'], async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'echo "$FOO|$(pwd)|$(id -u):$(id -g)|$(id -G)"'],
    env: ['PATH=/bin', 'FOO=bar baz'],
    cwd: '/tmp',
    patch: (s) => (s.process.user = { uid: 1, gid: 1, additionalGids: [100] }),
  });
  t.equal(r.stdout, 'bar baz|/tmp|1:1|1 100\n', why(r));
});

check('process.user.umask is applied', ['process.user.umask'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'umask'], patch: (s) => (s.process.user.umask = 0o027) });
  t.equal(r.stdout, '0027\n', why(r));
});

let consoleRecvBin: string | undefined;
function consoleRecv(): string {
  if (consoleRecvBin) return consoleRecvBin;
  const out = join(mkdtempSync(join(tmpdir(), 'pxoci-console-recv-')), 'console-recv');
  const src = fileURLToPath(new URL('native/console-recv.c', import.meta.url));
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build console-recv: ${r.stderr}`);
  return (consoleRecvBin = out);
}

check('terminal: the process runs on a pty of the asked size, whose master comes over --console-socket', ['process.terminal', 'process.consoleSize'], async (t) => {
  const id = `conf-${runtimeName}-tty`;
  const bundle = makeBundle(work, id, {
    terminal: true,
    // The pause lets the reader drain the pty before the hangup, which may discard unread output.
    args: ['sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-on-the-tty; stty size; sleep 0.3'],
    patch: (s) => (s.process.consoleSize = { height: 33, width: 101 }),
  });
  const socket = join(work, `${id}.sock`);
  const recv = spawn(consoleRecv(), [socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  recv.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const received = new Promise((r) => recv.on('exit', r));
  for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(20);
  const errFile = join(work, `${id}.stderr`);
  const errFd = openSync(errFile, 'w');
  const c = spawnSync(argv0[0]!, runtimeArgs(['create', '--bundle', bundle, '--console-socket', socket, id]), {
    env,
    stdio: ['ignore', 'ignore', errFd],
  });
  closeSync(errFd);
  t.equal(c.status, 0, readFileSync(errFile, 'utf8'));
  t.equal(runtime(['start', id]).status, 0);
  await Promise.race([received, sleep(30_000)]);
  recv.kill();
  for (let i = 0; i < 100 && JSON.parse(runtime(['state', id]).stdout || '{"status":"stopped"}').status !== 'stopped'; i++) await sleep(50);
  runtime(['delete', '--force', id]);
  t.match(out, /^\/dev\/pts\/\d+\r?\nall-on-the-tty\r?\n33 101\r?\n$/, JSON.stringify(out));
});

check('hostname is applied', ['hostname'], async (t) => {
  const r = await runInside({ args: ['hostname'], patch: (s) => (s.hostname = 'conf-host') });
  t.equal(r.stdout, 'conf-host\n', why(r));
});

check('rlimits are applied', ['process.rlimits'], async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'grep "Max open files" /proc/self/limits'],
    patch: (s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1234, hard: 2345 }]),
  });
  t.match(r.stdout, /Max open files\s+1234\s+2345\s+files/, why(r));
});

check('noNewPrivileges is applied', ['process.noNewPrivileges'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'grep NoNewPrivs /proc/self/status'], patch: (s) => (s.process.noNewPrivileges = true) });
  t.match(r.stdout, /NoNewPrivs:\s+1/, why(r));
});

check('oomScoreAdj is applied', ['process.oomScoreAdj'], async (t) => {
  const r = await runInside({ args: ['cat', '/proc/self/oom_score_adj'], patch: (s) => (s.process.oomScoreAdj = 123) });
  t.equal(r.stdout, '123\n', why(r));
});

check('capabilities: bounding and effective sets are exactly what was asked', ['process.capabilities.bounding', 'process.capabilities.effective, permitted, inheritable, ambient'], async (t) => {
  const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const r = await runInside({
    args: ['sh', '-c', 'grep -E "Cap(Bnd|Eff|Prm)" /proc/self/status'],
    patch: (s) => (s.process.capabilities = { bounding: caps, effective: caps, permitted: caps }),
  });
  // CHOWN=0, KILL=5, NET_BIND_SERVICE=10 → bits 0x421
  t.match(r.stdout, /CapPrm:\s+0000000000000421/, why(r));
  t.match(r.stdout, /CapEff:\s+0000000000000421/, why(r));
  t.match(r.stdout, /CapBnd:\s+0000000000000421/, why(r));
});

check('apparmorProfile is applied', ['process.apparmorProfile'], async (t, c) => {
  const r = await runInside({
    args: ['sh', '-c', 'cat /proc/self/attr/apparmor/current 2>/dev/null || cat /proc/self/attr/current 2>/dev/null || echo none'],
    patch: (s) => (s.process.apparmorProfile = 'unconfined'),
  });
  if (!existsSync('/sys/module/apparmor/parameters/enabled') || readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() !== 'Y') {
    c.differ('host-without-apparmor');
    // Without AppArmor the kernel shows no profile label: asserting that keeps the difference honest.
    t.notMatch(r.stdout, /unconfined|\(enforce\)|\(complain\)/, why(r));
    return;
  }
  t.equal(r.stdout.trim(), 'unconfined', why(r));
});

// ---- resources ----------------------------------------------------------------------------------

const MiB = 1024 * 1024;

check('memory limit is the effective limit', ['linux.resources.memory.limit'], async (t) => {
  const r = await runInside({
    args: ['sh', '-c', `grep -E "^hierarchical_memory_limit " /sys/fs/cgroup/memory/memory.stat 2>/dev/null || ${cgroupFile('', 'memory.max')}`],
    patch: (s) => (s.linux.resources = { memory: { limit: 64 * MiB } }),
  });
  t.match(r.stdout, new RegExp(`^(hierarchical_memory_limit )?${64 * MiB}\\n$`), why(r));
});

check('memory swap is the effective memory+swap limit', ['linux.resources.memory.swap'], async (t) => {
  const r = await runInside({
    args: ['sh', '-c', `grep -E "^hierarchical_memsw_limit " /sys/fs/cgroup/memory/memory.stat 2>/dev/null || ${cgroupFile('', 'memory.swap.max')}`],
    patch: (s) => (s.linux.resources = { memory: { limit: 64 * MiB, swap: 96 * MiB } }),
  });
  // v1 shows memory+swap, v2 swap alone.
  t.match(r.stdout, new RegExp(`^(hierarchical_memsw_limit ${96 * MiB}|${32 * MiB})\\n$`), why(r));
});

check('memory reservation is the soft limit', ['linux.resources.memory.reservation'], async (t, c) => {
  const r = await runInside({
    args: ['sh', '-c', cgroupFile('memory/memory.soft_limit_in_bytes', 'memory.low')],
    patch: (s) => (s.linux.resources = { memory: { reservation: 32 * MiB } }),
  });
  if (isPxoci) {
    c.differ('ct-cgroup-above-namespace-root');
    t.match(r.stdout, /^(9223372036854771712|0)\n$/, `the namespace root's default soft limit: ${why(r)}`);
    return;
  }
  t.equal(r.stdout, `${32 * MiB}\n`, why(r));
});

check('cpu shares', ['linux.resources.cpu.shares'], async (t, c) => {
  const r = await runInside({ args: ['sh', '-c', cgroupFile('cpu/cpu.shares', 'cpu.weight')], patch: (s) => (s.linux.resources = { cpu: { shares: 512 } }) });
  if (isPxoci) {
    c.differ('ct-cgroup-above-namespace-root');
    t.match(r.stdout, /^(1024|100)\n$/, `the namespace root's default weight: ${why(r)}`);
    return;
  }
  // v2 weight per runc's conversion of 512 shares.
  t.match(r.stdout, /^(512|20)\n$/, why(r));
});

check('cpu quota/period limit the CPU time the container gets', ['linux.resources.cpu.quota/period'], async (t) => {
  // A busy loop for 1.5 s of wall time: with a 10% quota it may get 0.15 s (15 ticks) of CPU; unlimited,
  // up to 150. The bound leaves room for scheduling noise without letting an unlimited loop pass.
  const r = await runInside({
    args: ['sh', '-c', 'sh -c "while :; do :; done" & p=$!; sleep 1.5; read -r line < /proc/$p/stat; kill $p; echo "$line"'],
    patch: (s) => (s.linux.resources = { cpu: { quota: 10000, period: 100000 } }),
  });
  const f = r.stdout.replace(/^.*\) /, '').split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime + stime (fields 14 and 15 of stat)
  t.ok(ticks > 0 && ticks < 50, `CPU ticks of the busy loop in 1.5 s: ${ticks} (${why(r)})`);
});

check('cpuset cpus and mems are the allowed lists', ['linux.resources.cpu.cpus', 'linux.resources.cpu.mems'], async (t) => {
  const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  t.match(online, /^0-[1-9]/, 'the host has CPUs 0 and 1, so CPU 1 alone can be told apart');
  const r = await runInside({ args: ['grep', '_allowed_list', '/proc/self/status'], patch: (s) => (s.linux.resources = { cpu: { cpus: '1', mems: '0' } }) });
  t.match(r.stdout, /Cpus_allowed_list:\s+1\n/, why(r));
  t.match(r.stdout, /Mems_allowed_list:\s+0\n/, why(r));
});

// ash gives up at the first failed fork: a child shell forks until then, its parent counts with builtins.
const forkUntilRefused = 'sh -c "i=0; while [ \\$i -lt 30 ]; do sleep 2 & i=\\$((i+1)); done" >/dev/null 2>&1; set -- /proc/[0-9]*; echo $#';

check('pids limit stops forks', ['linux.resources.pids.limit'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', forkUntilRefused], patch: (s) => (s.linux.resources = { pids: { limit: 10 } }) });
  const n = Number(r.stdout.trim());
  t.ok(n >= 3 && n <= 10, `processes in the container: ${n} (${why(r)})`);
});

check('unified (cgroup v2) keys: pids.max', ['linux.resources.unified'], async (t, c) => {
  const r = await runInside({ args: ['sh', '-c', forkUntilRefused], patch: (s) => (s.linux.resources = { unified: { 'pids.max': '10' } }) });
  if (!isPxoci && !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    c.differ('host-cgroup-v1');
    t.match(r.createError ?? '', /unified|cgroup v2|v1/i, `runc refuses unified keys on cgroup v1: ${why(r)}`);
    return;
  }
  const n = Number(r.stdout.trim());
  t.ok(n >= 3 && n <= 10, `processes in the container: ${n} (${why(r)})`);
});

/** /dev/loop-control passed in, with one device cgroup rule for it
 *  after a deny-all; says whether the container can open it. */
async function openLoopControlWith(allow: boolean) {
  const dev = { path: '/dev/loop-control', type: 'c', ...hostDeviceNumbers('/dev/loop-control') };
  return runInside({
    args: ['sh', '-c', 'ls /dev/loop-control && (: < /dev/loop-control) 2>/dev/null && echo open-ok || echo open-denied'],
    patch: (s) => {
      s.linux.devices = [dev];
      s.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow, type: 'c', major: dev.major, minor: dev.minor, access: allow ? 'rw' : 'rwm' }] };
    },
  });
}

check('device cgroup: an allow rule opens a device node', ['linux.resources.devices', 'linux.devices'], async (t) => {
  const r = await openLoopControlWith(true);
  t.equal(r.stdout, '/dev/loop-control\nopen-ok\n', why(r));
});

// pxoci allows a listed device in the device cgroup by itself (as runc): the deny rule must win over that.
check('device cgroup: a deny rule closes a device node', ['linux.resources.devices'], async (t) => {
  const r = await openLoopControlWith(false);
  t.equal(r.stdout, '/dev/loop-control\nopen-denied\n', why(r));
});

check('linux.devices: the node exists with its type, numbers and mode', ['linux.devices'], async (t) => {
  const numbers = hostDeviceNumbers('/dev/loop-control');
  const hostMode = (statSync('/dev/loop-control').mode & 0o777).toString(8);
  t.not(hostMode, '666', 'the host mode differs from the one asked for, so the check can tell');
  const r = await runInside({
    args: ['stat', '-c', '%t:%T %a %F', '/dev/loop-control'],
    patch: (s) => (s.linux.devices = [{ path: '/dev/loop-control', type: 'c', ...numbers, fileMode: 0o666, uid: 0, gid: 0 }]),
  });
  const [nums, mode, ...type] = r.stdout.trim().split(' ');
  t.equal(type.join(' '), 'character special file', why(r));
  t.equal(nums, `${numbers.major.toString(16)}:${numbers.minor.toString(16)}`);
  t.equal(mode, '666');
});

check('hugepage limits', ['linux.resources.hugepageLimits'], async (t, c) => {
  const r = await runInside({
    args: ['sh', '-c', cgroupFile('hugetlb/hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.max')],
    patch: (s) => (s.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] }),
  });
  if (isPxoci) return c.rejects(r, 'linux.resources.hugepageLimits');
  if (!readFileSync('/proc/self/mountinfo', 'utf8').includes('hugetlb')) {
    c.differ('host-without-hugetlb');
    t.ok(r.createError || r.stdout === 'missing\n', `no hugetlb controller in the container: ${r.stdout}${r.createError ?? ''}`);
    return;
  }
  t.equal(r.stdout, `${4 * MiB}\n`, why(r));
});


check('blockIO throttle', ['linux.resources.blockIO.throttle*'], async (t, c) => {
  const d = deviceNumbers(statSync('/').dev);
  const r = await runInside({
    args: ['sh', '-c', cgroupFile('blkio/blkio.throttle.read_bps_device', 'io.max')],
    patch: (s) => (s.linux.resources = { blockIO: { throttleReadBpsDevice: [{ ...d, rate: 1048576 }] } }),
  });
  if (isPxoci) {
    c.differ('pvesim-not-enforced');
    t.notMatch(r.stdout, /1048576/, why(r));
    return;
  }
  t.match(r.stdout, new RegExp(`^${d.major}:${d.minor} (rbps=)?1048576`), why(r));
});

check('blockIO weight', ['linux.resources.blockIO.weight'], async (t, c) => {
  const r = await runInside({
    args: ['sh', '-c', cgroupFile('blkio/blkio.weight', 'io.weight')],
    patch: (s) => (s.linux.resources = { blockIO: { weight: 300 } }),
  });
  if (!existsSync('/sys/fs/cgroup/blkio/blkio.weight') && !existsSync('/sys/fs/cgroup/io.weight')) {
    c.differ('host-without-blkio-weight');
    t.ok(r.createError || r.stdout === 'missing\n', `no blkio.weight in the container: ${r.stdout}${r.createError ?? ''}`);
    return;
  }
  if (isPxoci) {
    c.differ('pvesim-not-enforced');
    t.notMatch(r.stdout, /300/, why(r));
    return;
  }
  t.match(r.stdout, /^(default )?300\n$/, why(r));
});

check('cgroupsPath', ['linux.cgroupsPath'], async (t, c) => {
  const path = `/pxoci-conformance-${process.pid}`;
  const r = await runInside({ args: ['cat', '/proc/self/cgroup'], patch: (s) => (s.linux.cgroupsPath = path) });
  const memory = r.stdout.split('\n').find((l) => /^\d+:memory:/.test(l) || /^0::/.test(l)) ?? '';
  if (isPxoci) {
    c.differ('pve-cgroup-placement');
    t.match(memory, /:\/$/, why(r));
    return;
  }
  t.ok(memory.endsWith(path), `${memory} ends with ${path} (${why(r)})`);
});

// ---- namespaces and sysctls ---------------------------------------------------------------------

check('private namespaces: pid, ipc, uts, mount, network, cgroup', ['linux.namespaces[] pid, ipc, uts, mount, network, cgroup'], async (t) => {
  const kinds = ['pid', 'ipc', 'uts', 'mnt', 'net', 'cgroup'];
  const r = await runInside({
    args: ['sh', '-c', `for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done`],
    patch: (s) => s.linux.namespaces.push({ type: 'cgroup' }),
  });
  const inside = r.stdout.trim().split('\n');
  t.equal(inside.length, kinds.length, why(r));
  kinds.forEach((k, i) => t.not(inside[i], readlinkSync(`/proc/self/ns/${k}`), `${k} namespace is not the host's`));
});

check('no cgroup namespace asked for', ['linux.namespaces[] cgroup (absent)'], async (t, c) => {
  const r = await runInside({ args: ['readlink', '/proc/self/ns/cgroup'] });
  const host = readlinkSync('/proc/self/ns/cgroup');
  t.ok(r.stdout.trim(), why(r));
  if (isPxoci) {
    c.differ('pve-ct-private-namespaces');
    t.not(r.stdout.trim(), host, 'LXC gives the CT its own cgroup namespace all the same');
    return;
  }
  t.equal(r.stdout.trim(), host, "the host's cgroup namespace");
});

// runc would share every host namespace, the mount namespace included: pxoci only.
if (isPxoci) {
  check('no namespace list at all', ['linux.namespaces (absent)'], async (t, c) => {
    const kinds = ['pid', 'ipc', 'uts', 'mnt', 'net', 'cgroup'];
    const r = await runInside({ args: ['sh', '-c', `for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done`], patch: (s) => delete s.linux.namespaces });
    c.differ('pve-ct-private-namespaces');
    const inside = r.stdout.trim().split('\n');
    t.equal(inside.length, kinds.length, why(r));
    kinds.forEach((k, i) => t.not(inside[i], readlinkSync(`/proc/self/ns/${k}`), `${k} namespace is the CT's own`));
  });
}

// A holder process in namespaces of its own, which a container joins by path as pods do (podman's
// container:X, a CRI sandbox's /proc/<pause>/ns/...): the container must be in exactly those.
function namespaceHolder(): { pid: number; stop(): void } {
  const holder = spawn('unshare', ['--net', '--ipc', '--uts', 'sleep', '600'], { stdio: 'ignore' });
  return { pid: holder.pid!, stop: () => holder.kill('SIGKILL') };
}
const JOINED = ['net', 'ipc', 'uts'];
const NOT_JOINED = ['pid', 'mnt'];
const inodesInside = (r: Run, kinds: string[]) => Object.fromEntries(r.stdout.trim().split('\n').map((l, i) => [kinds[i], l]));

check('network, IPC and UTS namespaces joined by path', ['linux.namespaces[].path network, ipc, uts'], async (t) => {
  const holder = namespaceHolder();
  try {
    await sleep(200); // unshare has exec'd sleep in its namespaces
    const kinds = [...JOINED, ...NOT_JOINED];
    const r = await runInside({
      args: ['sh', '-c', `for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done; hostname`],
      patch: (s) => {
        for (const n of s.linux.namespaces) {
          const proc = n.type === 'network' ? 'net' : n.type;
          if (JOINED.includes(proc)) n.path = `/proc/${holder.pid}/ns/${proc}`;
        }
      },
    });
    const inside = inodesInside(r, kinds);
    for (const k of JOINED) t.equal(inside[k], readlinkSync(`/proc/${holder.pid}/ns/${k}`), `${k}: the namespace the path names (${why(r)})`);
    for (const k of NOT_JOINED) t.not(inside[k], readlinkSync(`/proc/${holder.pid}/ns/${k}`), `${k}: not the holder's`);
    for (const k of NOT_JOINED) t.not(inside[k], readlinkSync(`/proc/self/ns/${k}`), `${k}: not the host's`);
    t.match(r.stdout, /\npxoci-test\n$/, 'the hostname is set in the joined UTS namespace');
  } finally {
    holder.stop();
  }
});

check('network, IPC and UTS namespaces left out: the host\'s', ['linux.namespaces[] network, ipc, uts (absent from a given list)'], async (t) => {
  const kinds = [...JOINED, ...NOT_JOINED];
  const r = await runInside({
    args: ['sh', '-c', `for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done`],
    patch: (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => !['network', 'ipc', 'uts'].includes(n.type));
      delete s.hostname; // a hostname needs a UTS namespace of the container's own
    },
  });
  const inside = inodesInside(r, kinds);
  for (const k of JOINED) t.equal(inside[k], readlinkSync(`/proc/self/ns/${k}`), `${k}: the host's (${why(r)})`);
  for (const k of NOT_JOINED) t.not(inside[k], readlinkSync(`/proc/self/ns/${k}`), `${k}: the container's own`);
});

check('user namespace with the uid/gid mappings', ['linux.namespaces[] user + uid/gidMappings'], async (t) => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const r = await runInside({
    args: ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox; readlink /proc/self/ns/user'],
    patch: (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = map;
      s.linux.gidMappings = map;
    },
    // Files of a user-namespaced container belong to the mapped ids (PVE's pct create chowns them too).
    prepare: (bundle) => chownTree(join(bundle, 'rootfs'), 100000),
  });
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^\s*0\s+100000\s+65536$/, why(r));
  t.match(lines[1], /^\s*0\s+100000\s+65536$/);
  t.equal(lines[2], '0', 'root inside');
  t.equal(lines[3], '0', 'owns its files');
  t.not(lines[4], readlinkSync('/proc/self/ns/user'), "not the host's user namespace");
});

check('IPC sysctls', ['linux.sysctl (IPC keys)'], async (t) => {
  const r = await runInside({ args: ['cat', '/proc/sys/kernel/msgmax', '/proc/sys/kernel/shmmni'], patch: (s) => (s.linux.sysctl = { 'kernel.msgmax': '12345', 'kernel.shmmni': '2048' }) });
  t.equal(r.stdout, '12345\n2048\n', why(r));
});

check('net sysctls in the container network namespace', ['linux.sysctl (net.*)'], async (t) => {
  const host = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim();
  const r = await runInside({ args: ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'], patch: (s) => (s.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '99' }) });
  t.equal(r.stdout, '99\n', why(r));
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim(), host, "the host's value is unchanged");
});

// ---- fields pxoci refuses: create fails naming the field, before any CT exists --------------------

// runc applies or ignores these as it sees fit: what is checked is pxoci's documented refusal.
if (isPxoci) {
  // Every seccomp ABI of this node, so that only the field under test is refused.
  const nodeAbis = process.arch === 'arm64' ? ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] : ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
  const refused: Array<[string, string, (s: Record<string, any>) => void]> = [
    ['domainname', 'domainname', (s) => (s.domainname = 'example.org')],
    ['process.selinuxLabel', 'process.selinuxLabel', (s) => (s.process.selinuxLabel = 'system_u:system_r:container_t:s0')],
    ['process.scheduler', 'process.scheduler', (s) => (s.process.scheduler = { policy: 'SCHED_BATCH' })],
    ['process.ioPriority', 'process.ioPriority', (s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' })],
    ['process.execCPUAffinity', 'process.execCPUAffinity', (s) => (s.process.execCPUAffinity = { initial: '0' })],
    ['linux.namespaces[] pid, mount (absent from a given list)', 'linux.namespaces', (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid'))],
    ['linux.namespaces[].path pid, mount, user, cgroup', 'linux.namespaces[0].path', (s) => (s.linux.namespaces[0].path = '/proc/1/ns/pid')],
    ['linux.namespaces[] user with a joined or host namespace', 'linux.namespaces[4]', (s) => {
      s.linux.namespaces = [...s.linux.namespaces.filter((n: { type: string }) => n.type !== 'network'), { type: 'user' }];
      s.linux.uidMappings = s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }],
    ['linux.namespaces[] time', 'linux.namespaces[5]', (s) => s.linux.namespaces.push({ type: 'time' })],
    ['linux.resources.memory.checkBeforeUpdate', 'linux.resources.memory.checkBeforeUpdate', (s) => (s.linux.resources = { memory: { limit: 64 * MiB, checkBeforeUpdate: true } })],
    ['linux.resources.memory (other)', 'linux.resources.memory.swappiness', (s) => (s.linux.resources = { memory: { swappiness: 10 } })],
    ['linux.resources.cpu (realtime, burst, idle)', 'linux.resources.cpu.realtimeRuntime', (s) => (s.linux.resources = { cpu: { realtimeRuntime: 1000 } })],
    ['linux.resources.blockIO (leafWeight, weightDevice)', 'linux.resources.blockIO.weightDevice', (s) => (s.linux.resources = { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 10 }] } })],
    ['linux.resources.network, rdma', 'linux.resources.network', (s) => (s.linux.resources = { network: { classID: 1 } })],
    ['linux.sysctl (other keys)', 'linux.sysctl["kernel.panic"]', (s) => (s.linux.sysctl = { 'kernel.panic': '1' })],
    ['linux.seccomp.architectures (not every ABI of the node)', 'linux.seccomp.architectures', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] })],
    ['linux.seccomp SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY', 'linux.seccomp.defaultAction', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_LOG', architectures: nodeAbis })],
    ['linux.seccomp.listenerPath, listenerMetadata', 'linux.seccomp.listenerPath', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' })],
    ['linux.seccomp.flags (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV)', 'linux.seccomp.flags[0]', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] })],
    ['linux.mountLabel', 'linux.mountLabel', (s) => (s.linux.mountLabel = 'system_u:object_r:container_file_t:s0')],
    ['linux.intelRdt', 'linux.intelRdt', (s) => (s.linux.intelRdt = { closID: 'x' })],
    ['linux.personality', 'linux.personality', (s) => (s.linux.personality = { domain: 'LINUX32' })],
    ['linux.timeOffsets', 'linux.timeOffsets', (s) => (s.linux.timeOffsets = { monotonic: { secs: 1, nanosecs: 0 } })],
    ['linux.memoryPolicy', 'linux.memoryPolicy', (s) => (s.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' })],
    ['linux.netDevices', 'linux.netDevices', (s) => (s.linux.netDevices = { lo: { name: 'lo1' } })],
  ];
  for (const [row, field, patch] of refused) {
    check(`refused by name: ${field}`, [row], async (t, c) => {
      const r = await runInside({ patch });
      c.rejects(r, field);
      t.notMatch(runtime(['list']).stdout, /conf-/, 'no container is left behind');
    });
  }
}

check('capabilities: a non-root process gets exactly the sets asked, ambient surviving exec', ['process.capabilities.bounding', 'process.capabilities.effective, permitted, inheritable, ambient'], async (t) => {
  const bind = ['CAP_NET_BIND_SERVICE'];
  const r = await runInside({
    args: ['sh', '-c', 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'],
    patch: (s) => {
      s.process.user = { uid: 1000, gid: 1000 };
      s.process.capabilities = { bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], effective: bind, permitted: bind, inheritable: bind, ambient: bind };
    },
  });
  // NET_BIND_SERVICE = 10 (0x400), KILL = 5 (0x20)
  t.equal(
    r.stdout,
    'CapInh:\t0000000000000400\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000000000420\nCapAmb:\t0000000000000400\n',
    why(r),
  );
});

check("capabilities: an ambient capability that is not also inheritable is left out (runc spec's own config)", ['process.capabilities.effective, permitted, inheritable, ambient'], async (t) => {
  // `runc spec` (1.1) lists its capabilities in ambient but not in inheritable; the kernel raises none of
  // them, and runc skips each failed raise.
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const r = await runInside({
    args: ['sh', '-c', 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'],
    patch: (s) => (s.process.capabilities = { bounding: caps, effective: caps, permitted: caps, ambient: caps }),
  });
  // AUDIT_WRITE = 29, KILL = 5, NET_BIND_SERVICE = 10
  t.equal(r.stdout, 'CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n', why(r));
});

check('capabilities: a set the process cannot hold fails create, not the process after start; permitted beyond bounding is dropped', ['process.capabilities.effective, permitted, inheritable, ambient'], async (t) => {
  const inheritable = await runInside({
    patch: (s) => (s.process.capabilities = { bounding: ['CAP_KILL'], inheritable: ['CAP_CHOWN'] }),
  });
  t.match(inheritable.createError ?? 'create succeeded', /unable to apply caps: .*operation not permitted/, 'inheritable beyond its own bounding set');
  // runc sets permitted/effective beyond the bounding set and exec drops them: the process runs with its bounding set.
  const beyond = await runInside({
    args: ['sh', '-c', 'grep -E "^Cap(Prm|Bnd)" /proc/self/status'],
    patch: (s) => (s.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'] }),
  });
  t.equal(beyond.stdout, 'CapPrm:\t0000000000000020\nCapBnd:\t0000000000000020\n', why(beyond));
  const gap = hostBoundingGap();
  if (!gap) return;
  const outsideNode = await runInside({
    patch: (s) => (s.process.capabilities = { bounding: [gap], effective: [gap], permitted: [gap] }),
  });
  t.match(outsideNode.createError ?? 'create succeeded', /unable to apply caps: .*operation not permitted/, `${gap}, which this node's bounding set lacks`);
});

check('capabilities: without ambient, a non-root process ends with none after exec', ['process.capabilities.effective, permitted, inheritable, ambient'], async (t) => {
  const caps = ['CAP_CHOWN', 'CAP_KILL'];
  const r = await runInside({
    args: ['sh', '-c', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status'],
    patch: (s) => {
      s.process.user = { uid: 1000, gid: 1000 };
      s.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    },
  });
  t.equal(r.stdout, 'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000021\n', why(r));
});
