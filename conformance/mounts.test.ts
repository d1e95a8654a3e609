// Conformance checks of the container's tree: root, mounts, masked and read-only paths, device nodes,
// each observed from INSIDE the container, the same checks on pxoci and on runc:
//   RUNTIME=/usr/sbin/runc npx tap conformance/mounts.test.ts      (runc, on the host)
//   npx tap conformance/mounts.test.ts                              (pxoci on a simulated PVE node)
// Each check names the rows of src/oci/fields.ts it proves (conformance/harness.ts records the results
// per row, in conformance/results/<runtime>.mounts.json). A file of its own: with oci.test.ts it would
// not fit one suite's time on a busy machine.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chownTree, isPxoci, runInside, work, check, type Run } from './harness.js';

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

// runtimetest (runtime-tools cmd/runtimetest validatePosixMounts, mountMatch) walks the mountinfo once:
// each mount of the config that is not a bind must be found, by destination, type and source, after
// the one found for the mount before it. The mounts are runtime-tools' default config's (generate.go).
// pxoci keeps LXC's own /proc and /sys (proc:mixed, sys:mixed) where the config orders them later, so
// /proc/sys and /sys must stay read-only, with and without a user namespace.
const RUNTIME_TOOLS_MOUNTS = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];
// The second run puts /proc last, after mounts pxoci makes, and adds a user namespace.
for (const userns of [false, true]) {
  const config = userns ? [...RUNTIME_TOOLS_MOUNTS.slice(1), RUNTIME_TOOLS_MOUNTS[0]!] : RUNTIME_TOOLS_MOUNTS;
  check(`the config's mounts in the config's order, as runtimetest reads the mountinfo${userns ? ' (user namespace, /proc last)' : ''}`, ['mounts[] /proc (proc), /sys (sysfs)', 'mounts[] /dev (tmpfs), /dev/pts (devpts)', 'mounts[] tmpfs, mqueue, devpts, proc, sysfs (at other paths)'], async (t) => {
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const r = await runInside({
      // Creating a file where sysfs has no create: EROFS on a read-only mount, EACCES on another. The
      // domainname is the container's own UTS namespace's.
      args: ['sh', '-c', 'cat /proc/self/mountinfo; echo ==; ls /dev; echo x > /dev/null && echo null-writable; touch /sys/probe 2>&1; (echo probe > /proc/sys/kernel/domainname) 2>&1'],
      patch: (s) => {
        s.mounts = config;
        // What LXC protects itself, not pxoci's read-only and masked paths.
        s.linux.readonlyPaths = [];
        s.linux.maskedPaths = [];
        if (userns) {
          s.linux.namespaces.push({ type: 'user' });
          s.linux.uidMappings = map;
          s.linux.gidMappings = map;
        }
      },
      prepare: userns ? (bundle) => chownTree(join(bundle, 'rootfs'), 100000) : undefined,
    });
    const [info, dev] = r.stdout.split('==\n');
    const mounts = parseMountinfo(info ?? '');
    t.ok(mounts.length, why(r));
    let next = 0;
    for (const [i, c] of config.entries()) {
      const at = mounts.findIndex((m, k) => k >= next && m.point === c.destination && m.type === c.type && m.source === c.source);
      t.ok(at >= 0, `mounts[${i}] (${c.destination} ${c.type} ${c.source}) found in order: ${mounts.slice(next).map((m) => `${m.point} ${m.type} ${m.source}`).join('; ')}`);
      if (at >= 0) next = at + 1;
    }
    t.match(r.stdout, /\/sys\/probe: Read-only file system/, '/sys is read-only');
    // LXC's proc:mixed (runc leaves it to readonlyPaths, emptied here).
    if (isPxoci) t.match(r.stdout, /\/proc\/sys\/kernel\/domainname: Read-only file system/, '/proc/sys is read-only');
    for (const n of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'shm', 'mqueue']) t.match(dev, new RegExp(`^${n}$`, 'm'), `/dev/${n}`);
    t.match(r.stdout, /null-writable\n/, '/dev/null is the null device');
  });
}

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

