// Runtime-agnostic OCI conformance checks, each observed from INSIDE the container.
//   RUNTIME=/usr/sbin/runc npx tap conformance/oci.test.ts      (runc, on the host)
//   npx tap conformance/oci.test.ts                              (pxoci on a simulated PVE node)
// The same checks pass on runc: that is the proof they test something real. Each check names the
// rows of src/oci/fields.ts it proves (conformance/harness.ts records the results per row).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, lchownSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBundle } from '../test/helpers/env.js';
import { sleep } from '../test/helpers/wait.js';
import { argv0, env, isPxoci, runInside, runtime, runtimeArgs, runtimeName, work, check, type Run } from './harness.js';

const why = (r: Run) => r.createError ?? r.stderr;

interface MountInfo {
  root: string;
  point: string;
  options: string[];
  /** The optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  propagation: string[];
  type: string;
  source: string;
  superOptions: string[];
}
function parseMountinfo(text: string): MountInfo[] {
  return text
    .split('\n')
    .filter((l) => l.includes(' - '))
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre!.split(' ');
      const [type, source, superOptions] = post!.split(' ');
      return { root: f[3]!, point: f[4]!, options: f[5]!.split(','), propagation: f.slice(6), type: type!, source: source!, superOptions: (superOptions ?? '').split(',') };
    });
}
/** The mount a path resolves to: the last one mounted on it. */
const mountAt = (mounts: MountInfo[], point: string) => mounts.filter((m) => m.point === point).at(-1);

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

// ---- root and mounts ----------------------------------------------------------------------------

check('read-only root', ['root.readonly'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'touch /x 2>/dev/null && echo writable || echo readonly'], patch: (s) => (s.root.readonly = true) });
  t.equal(r.stdout, 'readonly\n', why(r));
});

check('bind mount of a directory: ro, nosuid, nodev, noexec', ['mounts[] bind, rbind'], async (t) => {
  const ro = mkdtempSync(join(work, 'bind-ro-'));
  const flags = mkdtempSync(join(work, 'bind-flags-'));
  chmodSync(ro, 0o755);
  writeFileSync(join(ro, 'file'), 'from-host\n');
  const r = await runInside({
    args: ['sh', '-c', 'cat /data/file; touch /data/new 2>/dev/null && echo rw || echo ro; cat /proc/self/mountinfo'],
    patch: (s) => {
      s.mounts.push(
        { destination: '/data', type: 'bind', source: ro, options: ['rbind', 'ro'] },
        { destination: '/flags', type: 'bind', source: flags, options: ['rbind', 'nosuid', 'nodev', 'noexec'] },
      );
    },
  });
  t.match(r.stdout, /^from-host\nro\n/, why(r));
  const m = mountAt(parseMountinfo(r.stdout), '/flags');
  t.ok(m, 'mounted at /flags');
  for (const f of ['nosuid', 'nodev', 'noexec']) t.ok(m?.options.includes(f), `/flags is ${f}: ${m?.options}`);
  t.notOk(m?.options.includes('ro'), '/flags is writable');
});

check('tmpfs mount with size, mode and flags', ['mounts[] tmpfs, mqueue, devpts, proc, sysfs (at other paths)'], async (t) => {
  const r = await runInside({
    args: ['cat', '/proc/self/mountinfo'],
    patch: (s) => s.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m', 'mode=1770'] }),
  });
  const m = mountAt(parseMountinfo(r.stdout), '/scratch');
  t.equal(m?.type, 'tmpfs', why(r));
  t.ok(m?.superOptions.includes('size=1024k'), `size: ${m?.superOptions}`);
  t.ok(m?.superOptions.includes('mode=1770'), `mode: ${m?.superOptions}`);
  for (const f of ['nosuid', 'nodev', 'noexec']) t.ok(m?.options.includes(f), `${f}: ${m?.options}`);
});

check('the standard mounts: /proc, /sys, /dev/mqueue, /dev/shm', ['mounts[] /proc (proc), /sys (sysfs)', 'mounts[] tmpfs, mqueue, devpts, proc, sysfs (at other paths)'], async (t) => {
  const r = await runInside({ args: ['cat', '/proc/self/mountinfo'] });
  const mounts = parseMountinfo(r.stdout);
  t.equal(mountAt(mounts, '/proc')?.type, 'proc', why(r));
  t.equal(mountAt(mounts, '/sys')?.type, 'sysfs');
  t.ok(mountAt(mounts, '/sys')?.options.includes('ro'), 'runc spec asks for /sys ro');
  t.equal(mountAt(mounts, '/dev/mqueue')?.type, 'mqueue');
  t.equal(mountAt(mounts, '/dev/shm')?.type, 'tmpfs');
  t.ok(mountAt(mounts, '/dev/shm')?.superOptions.includes('size=65536k'), `/dev/shm size: ${mountAt(mounts, '/dev/shm')?.superOptions}`);
});

check('/dev is a tmpfs and /dev/pts a private devpts', ['mounts[] /dev (tmpfs), /dev/pts (devpts)'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'cat /proc/self/mountinfo; ls /dev/pts'] });
  const mounts = parseMountinfo(r.stdout);
  t.equal(mountAt(mounts, '/dev')?.type, 'tmpfs', why(r));
  const pts = mountAt(mounts, '/dev/pts');
  t.equal(pts?.type, 'devpts');
  t.ok(pts?.superOptions.includes('ptmxmode=666'), `ptmxmode: ${pts?.superOptions}`);
  t.ok(pts?.superOptions.includes('gid=5'), `gid: ${pts?.superOptions}`);
});

check('/sys/fs/cgroup shows the container its cgroups', ['mounts[] /sys/fs/cgroup (cgroup)'], async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'cat /proc/self/mountinfo; ls /sys/fs/cgroup/memory /sys/fs/cgroup'] });
  const mounts = parseMountinfo(r.stdout);
  const below = mounts.filter((m) => m.point === '/sys/fs/cgroup' || m.point.startsWith('/sys/fs/cgroup/'));
  t.ok(below.some((m) => m.type === 'cgroup' || m.type === 'cgroup2'), `cgroup file systems below /sys/fs/cgroup: ${below.map((m) => m.point)}`);
  for (const m of below.filter((m) => m.type.startsWith('cgroup'))) t.ok(m.options.includes('ro'), `${m.point} read-only, as the mount asks`);
  t.match(r.stdout, /memory\.limit_in_bytes|memory\.max/, 'the memory controller is readable');
});

check('file binds the engine adds: /etc/hosts, /etc/hostname, /etc/resolv.conf', ['mounts[] bind, rbind'], async (t) => {
  const dir = mkdtempSync(join(work, 'etc-'));
  chmodSync(dir, 0o755);
  const files = { hosts: '127.0.0.1 localhost conf\n', hostname: 'conf-host\n', 'resolv.conf': 'nameserver 192.0.2.53\n' };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const r = await runInside({
    args: ['sh', '-c', 'cat /etc/hosts /etc/hostname /etc/resolv.conf; echo x >> /etc/hosts 2>/dev/null && echo rw || echo ro'],
    patch: (s) => {
      for (const name of Object.keys(files)) s.mounts.push({ destination: `/etc/${name}`, type: 'bind', source: join(dir, name), options: ['rbind', 'ro'] });
    },
  });
  t.equal(r.stdout, Object.values(files).join('') + 'ro\n', why(r));
});

check("a bind below /dev: the engine's /dev/shm directory", ['mounts[] bind, rbind'], async (t) => {
  const shm = mkdtempSync(join(work, 'shm-'));
  chmodSync(shm, 0o1777);
  writeFileSync(join(shm, 'engine-shm'), 'shared\n');
  const r = await runInside({
    args: ['sh', '-c', 'cat /dev/shm/engine-shm; grep " /dev/shm " /proc/self/mountinfo'],
    patch: (s) => {
      s.mounts = s.mounts.filter((m: { destination: string }) => m.destination !== '/dev/shm');
      s.mounts.push({ destination: '/dev/shm', type: 'bind', source: shm, options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
    },
  });
  t.match(r.stdout, /^shared\n/, why(r));
  const m = mountAt(parseMountinfo(r.stdout), '/dev/shm');
  t.equal(m?.root, shm, 'the engine directory is what /dev/shm shows');
  for (const f of ['nosuid', 'nodev', 'noexec']) t.ok(m?.options.includes(f), `${f}: ${m?.options}`);
});

check('maskedPaths: files read empty, directories are empty', ['linux.maskedPaths'], async (t) => {
  t.ok(readFileSync('/proc/timer_list').length > 0 && readdirSync('/sys/firmware').length > 0, 'the host has something to mask');
  const r = await runInside({
    args: ['sh', '-c', 'wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l'],
    patch: (s) => (s.linux.maskedPaths = ['/proc/timer_list', '/sys/firmware']),
  });
  t.equal(r.stdout.replace(/ +/g, ''), '0\n0\n', why(r));
});

check('readonlyPaths are mounted read-only', ['linux.readonlyPaths'], async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'cat /proc/self/mountinfo; echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-rw || echo sys-ro'],
    patch: (s) => (s.linux.readonlyPaths = ['/proc/sys', '/proc/bus']),
  });
  const mounts = parseMountinfo(r.stdout);
  for (const p of ['/proc/sys', '/proc/bus']) t.ok(mountAt(mounts, p)?.options.includes('ro'), `${p} read-only: ${mountAt(mounts, p)?.options}`);
  t.match(r.stdout, /sys-ro\n$/, why(r));
});

// ---- paths inside the container's own root -------------------------------------------------------

/** A directory of the host, readable by a user-namespaced container's root too. */
function hostDir(prefix: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(work, prefix));
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

check("maskedPaths and readonlyPaths act on the container's own paths, never the host's", ['linux.maskedPaths', 'linux.readonlyPaths'], async (t) => {
  // A path only the host has: a runtime that resolved these on the host would bind it in.
  const hostOnly = hostDir('host-only-', { marker: 'host data\n' });
  t.ok(readdirSync('/etc').length > 20, "the host's /etc is not the image's");
  let imageEtc = -1;
  const hostInterfaces = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n && n !== 'lo');
  t.ok(hostInterfaces.length > 0, `the host has network interfaces a container must not see: ${hostInterfaces}`);
  const r = await runInside({
    args: ['sh', '-c', `[ -e ${hostOnly} ] && echo host-path-visible || echo host-path-absent; ls -A /etc | wc -l; touch /etc/x 2>/dev/null && echo etc-writable || echo etc-readonly; wc -c < /secret; ls -A /secretdir | wc -l; touch /image-ro/x 2>/dev/null && echo image-ro-writable || echo image-ro-readonly; cat /proc/net/dev`],
    patch: (s) => {
      s.linux.maskedPaths = ['/secret', '/secretdir', `${hostOnly}/marker`];
      s.linux.readonlyPaths = ['/image-ro', hostOnly, '/proc/net', '/etc'];
    },
    prepare: (bundle) => {
      imageEtc = readdirSync(join(bundle, 'rootfs/etc')).length;
      writeFileSync(join(bundle, 'rootfs/secret'), 'image secret\n');
      mkdirSync(join(bundle, 'rootfs/secretdir'));
      writeFileSync(join(bundle, 'rootfs/secretdir/file'), 'image secret\n');
      mkdirSync(join(bundle, 'rootfs/image-ro'), { mode: 0o777 });
    },
  });
  const [marker, etcCount, etcWritable, secret, secretdir, imageRo, ...netDev] = r.stdout.split('\n');
  t.equal(marker, 'host-path-absent', `the host's ${hostOnly} is not in the container (${why(r)})`);
  t.equal(etcCount?.trim(), String(imageEtc), "/etc read-only is the image's /etc, not the host's");
  t.equal(etcWritable, 'etc-readonly');
  t.equal(secret?.trim(), '0', 'a masked file of the image reads empty');
  t.equal(secretdir?.trim(), '0', 'a masked directory of the image is empty');
  t.equal(imageRo, 'image-ro-readonly', 'a read-only path of the image is read-only');
  for (const name of hostInterfaces) t.notMatch(netDev.join('\n'), new RegExp(`^\\s*${name}:`, 'm'), `/proc/net is the container's network namespace, without the host's ${name}`);
});

check('tmpcopyup: the image\'s files at the path are in the new tmpfs', ['mounts[].options tmpcopyup', 'mounts[] tmpfs, mqueue, devpts, proc, sysfs (at other paths)'], async (t) => {
  let bundleDir = '';
  const r = await runInside({
    args: ['sh', '-c', 'cat /opt/data/hello.txt; cat /opt/data/sub/deep.txt; readlink /opt/data/link; stat -c "%a %u" /opt/data/sub; touch /opt/data/new && echo writable; grep " /opt/data " /proc/self/mountinfo'],
    patch: (s) => s.mounts.push({ destination: '/opt/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup'] }),
    prepare: (bundle) => {
      bundleDir = bundle;
      mkdirSync(join(bundle, 'rootfs/opt/data/sub'), { recursive: true });
      writeFileSync(join(bundle, 'rootfs/opt/data/hello.txt'), 'hello from the image\n');
      writeFileSync(join(bundle, 'rootfs/opt/data/sub/deep.txt'), 'deeper\n');
      chmodSync(join(bundle, 'rootfs/opt/data/sub'), 0o750);
      symlinkSync('hello.txt', join(bundle, 'rootfs/opt/data/link'));
    },
  });
  t.equal(r.stdout.split('\n').slice(0, 5).join('\n'), 'hello from the image\ndeeper\nhello.txt\n750 0\nwritable', why(r));
  t.match(r.stdout, / \/opt\/data .* - tmpfs /, 'a tmpfs');
  t.notOk(existsSync(join(bundleDir, 'rootfs/opt/data/new')), "the image's directory itself is unchanged");
});

check('bind options runc takes: strictatime, mode=, size=', ['mounts[].options on a bind: data (mode=, size=, …)', 'mounts[] bind, rbind'], async (t) => {
  const dir = hostDir('bind-data-', { file: 'bound\n' });
  const r = await runInside({
    args: ['sh', '-c', 'cat /bound/file'],
    patch: (s) => s.mounts.push({ destination: '/bound', type: 'bind', source: dir, options: ['rbind', 'strictatime', 'mode=755', 'size=1m'] }),
  });
  t.equal(r.stdout, 'bound\n', why(r));
});

check('per-mount propagation: rprivate and rshared', ['mounts[].options shared, slave, private, unbindable (and r…)'], async (t) => {
  const r = await runInside({
    args: ['cat', '/proc/self/mountinfo'],
    patch: (s) => s.mounts.push({ destination: '/private', type: 'tmpfs', source: 'tmpfs', options: ['rprivate'] }, { destination: '/shared', type: 'tmpfs', source: 'tmpfs', options: ['rshared'] }),
  });
  const mounts = parseMountinfo(r.stdout);
  t.same(mountAt(mounts, '/private')?.propagation, [], `/private has no peers: ${why(r)}`);
  t.match(mountAt(mounts, '/shared')?.propagation.join(' '), /shared:\d+/, '/shared is shared');
});

// As runtime-tools' linux_rootfs_propagation: a bind of / made before a later mount shows that mount
// only when the root is shared; an unbindable root cannot be bound at all.
check('rootfsPropagation: shared, slave, private, unbindable', ['linux.rootfsPropagation'], async (t, c) => {
  const probe = 'mkdir /target /mnt1 /test && touch /test/example; mount -o rbind / /target 2>/dev/null || { echo not-bindable; exit 0; }; mount -o bind /test /mnt1; [ -e /target/mnt1/example ] && echo exposed || echo hidden';
  const expected: Record<string, string> = { shared: 'exposed', slave: 'hidden', private: 'hidden', unbindable: 'not-bindable' };
  for (const [propagation, seen] of Object.entries(expected)) {
    const r = await runInside({
      args: ['sh', '-c', probe],
      patch: (s) => {
        s.linux.rootfsPropagation = propagation;
        s.process.capabilities = { bounding: ['CAP_SYS_ADMIN'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_SYS_ADMIN'] };
      },
    });
    if (!isPxoci && propagation === 'shared') {
      c.differ('runc-1.1-rootfs-propagation');
      t.equal(r.stdout, 'hidden\n', `runc 1.1 leaves the root private: ${why(r)}`);
      continue;
    }
    if (!isPxoci && propagation === 'unbindable') {
      c.differ('runc-1.1-rootfs-propagation');
      t.match(r.createError ?? '', /invalid argument/, `runc 1.1 cannot create it: ${why(r)}`);
      continue;
    }
    t.equal(r.stdout, `${seen}\n`, `${propagation}: ${why(r)}`);
  }
});

check('mount points on a read-only root: a file bind absent from the image, and nested directories', ['root.readonly', 'mounts[] bind, rbind'], async (t) => {
  const dir = hostDir('nested-', { here: 'nested\n' });
  const file = join(hostDir('containerenv-', { '.containerenv': 'engine=test\n' }), '.containerenv');
  const r = await runInside({
    args: ['sh', '-c', 'cat /run/.containerenv /mnt/x/y/here; touch /new 2>/dev/null && echo root-writable || echo root-readonly'],
    patch: (s) => {
      s.root.readonly = true;
      s.mounts.push({ destination: '/run/.containerenv', type: 'bind', source: file, options: ['bind', 'ro'] }, { destination: '/mnt/x/y', type: 'bind', source: dir, options: ['rbind'] });
    },
    prepare: (bundle) => rmSync(join(bundle, 'rootfs/mnt'), { recursive: true, force: true }),
  });
  t.equal(r.stdout, 'engine=test\nnested\nroot-readonly\n', why(r));
});

check('a symlink in the image cannot lead a mount out of the root', ['mounts[] bind, rbind'], async (t) => {
  // The image's /data points at a directory the host has: inside the container it means the
  // container's own path of that name.
  const hostTarget = hostDir('symlink-target-');
  const dir = hostDir('bind-dir-', { inside: 'dir bind\n' });
  const file = join(hostDir('bind-file-', { 'f.txt': 'file bind\n' }), 'f.txt');
  const r = await runInside({
    args: ['sh', '-c', 'cat /data/newdir/inside /data/new.txt'],
    patch: (s) => s.mounts.push({ destination: '/data/newdir', type: 'bind', source: dir, options: ['bind'] }, { destination: '/data/new.txt', type: 'bind', source: file, options: ['bind'] }),
    prepare: (bundle) => symlinkSync(hostTarget, join(bundle, 'rootfs/data')),
  });
  t.equal(r.stdout, 'dir bind\nfile bind\n', why(r));
  t.same(readdirSync(hostTarget), [], `nothing was made in the host's ${hostTarget}`);
});

check('mounts keep their order: a bind at /mnt/x/y, then one at /mnt/x, hides y', ['mounts[] bind, rbind'], async (t) => {
  const inner = hostDir('inner-', { 'from-y': 'y\n' });
  const outer = hostDir('outer-', { 'from-x': 'x\n' });
  const r = await runInside({
    args: ['ls', '/mnt/x'],
    patch: (s) => s.mounts.push({ destination: '/mnt/x/y', type: 'bind', source: inner, options: ['bind'] }, { destination: '/mnt/x', type: 'bind', source: outer, options: ['bind'] }),
  });
  t.equal(r.stdout, 'from-x\n', why(r));
});

check("mount points a user-namespaced container's mounts need belong to its root", ['mounts[] bind, rbind', 'linux.namespaces[] user + uid/gidMappings'], async (t) => {
  const dir = hostDir('userns-bind-', { f: 'ok\n' });
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const r = await runInside({
    args: ['sh', '-c', 'cat /mnt/a/b/f; stat -c "%u:%g" /mnt /mnt/a'],
    patch: (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = map;
      s.linux.gidMappings = map;
      s.mounts.push({ destination: '/mnt/a/b', type: 'bind', source: dir, options: ['rbind'] });
    },
    prepare: (bundle) => {
      rmSync(join(bundle, 'rootfs/mnt'), { recursive: true, force: true });
      chownTree(join(bundle, 'rootfs'), 100000);
    },
  });
  t.equal(r.stdout, 'ok\n0:0\n0:0\n', why(r));
});

check('linux.devices: a node the host does not have is made', ['linux.devices'], async (t) => {
  const path = `/dev/pxoci-null-${process.pid}`;
  t.notOk(existsSync(path), 'the host has no such node');
  const r = await runInside({
    // Writable for others: the process's capabilities are not what this checks.
    args: ['sh', '-c', `echo x > ${path} && stat -c '%t:%T %a %u:%g %F' ${path}`],
    patch: (s) => {
      s.linux.devices = [{ path, type: 'c', major: 1, minor: 3, fileMode: 0o606, uid: 1, gid: 2 }];
      s.linux.resources = { devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] };
    },
  });
  t.equal(r.stdout, '1:3 606 1:2 character special file\n', why(r));
});

check('/dev/ptmx is the symlink to pts/ptmx', ['default devices (/dev/null, zero, full, random, urandom, tty, console, ptmx)'], async (t) => {
  const r = await runInside({ args: ['readlink', '/dev/ptmx'] });
  t.equal(r.stdout, 'pts/ptmx\n', why(r));
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

/** /dev/loop-control (a host node, as PVE's devN needs) passed in, with one device cgroup rule for it
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

// PVE's devN allows its node in the device cgroup by itself: the deny rule must win over that.
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

function chownTree(path: string, id: number) {
  lchownSync(path, id, id);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory() || readlinkSafe(path)) return;
  for (const e of readdirSync(path)) chownTree(join(path, e), id);
}
function readlinkSafe(p: string) {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

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
    ['linux.namespaces[] pid, ipc, uts, mount, network (absent from a given list)', 'linux.namespaces', (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'network'))],
    ['linux.namespaces[].path', 'linux.namespaces[4].path', (s) => (s.linux.namespaces[4].path = '/proc/1/ns/net')],
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
