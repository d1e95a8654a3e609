// The pure core: config.json validation and OCI → PVE translation, over many config shapes.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { validateSpec } from '../src/oci/bundle.js';
import { translate, hostnameFor, sharesToCpuunits, type TranslateContext } from '../src/oci/translate.js';
import { encodeInitSpec } from '../src/oci/initspec.js';
import { MS, encodeHookPlan, encodeSetupPlan } from '../src/oci/mount-plan.js';
import { ConfigError } from '../src/oci/errors.js';
import { FIELDS, rejectionReason } from '../src/oci/fields.js';
import { defaultSpec } from '../src/commands/spec.js';
import { parsePctConfig, writePctConfig, checkOption, checkRawLxcKey } from '../src/pve/config.js';
import { top } from './helpers/env.js';

const ctx: TranslateContext = {
  id: 'test',
  bundle: '/b',
  vmid: 100,
  runtimeDir: '/run/pxoci/test/ct',
  arch: 'amd64',
  rootfs: '/b/rootfs',
  helper: '/usr/lib/pxoci/pxoci-helper',
  pathKind: (p) => (p.endsWith('.file') || p === '/proc/kcore' ? 'file' : p.includes('missing') ? 'missing' : 'dir'),
  realPath: (p) => (p.includes('missing') ? undefined : p.replace(/^\/link\//, '/real/')),
};
const HOOK = 'lxc.hook.mount: /usr/lib/pxoci/pxoci-helper mount-hook /run/pxoci/test/ct';

function spec(patch: (s: any) => void = () => {}): any {
  const s: any = {
    ociVersion: '1.2.0',
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs' },
  };
  patch(s);
  return validateSpec(s);
}

const privateNs = ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type }));
const amd64Abis = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
const lxcOf = (s: any, c = ctx) => translate(s, c).config.lxc.map(([k, v]) => `${k}: ${v}`);
/** The lines of a config past pxoci's own plumbing (lxc.init.cmd, the /.pxoci mounts), which every
 *  config starts with and the minimal one is made of. */
const pastPlumbing = (s: any) => lxcOf(s).slice(lxcOf(spec()).length);

t.test('minimal config: the PVE options and pxoci plumbing', async (t) => {
  const { config, init } = translate(spec(), ctx);
  t.same(config.options, { arch: 'amd64', ostype: 'unmanaged', hostname: 'test', rootfs: '/b/rootfs', tty: '0' });
  t.same(config.lxc, [
    ['lxc.init.cmd', '/.pxoci/init'],
    ['lxc.mount.entry', '/run/pxoci/test/ct .pxoci none bind,ro,create=dir 0 0'],
    ['lxc.mount.entry', '/run/pxoci/test/ct/run .pxoci/run none bind,create=dir 0 0'],
  ]);
  t.same(init, { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, additionalGids: [], umask: undefined, terminal: false, noNewPrivileges: false, rlimits: [], oomScoreAdj: undefined });
});

t.test('runc-style default spec (pxoci spec) translates', async (t) => {
  const { config, hookPlan, fstab } = translate(validateSpec(defaultSpec(false)), ctx);
  t.equal(config.options.rootfs, '/b/rootfs', 'no ro=1: the mount hook makes the root read-only once its mount points exist');
  const lxc = config.lxc.map(([k, v]) => `${k}: ${v}`);
  t.ok(lxc.includes('lxc.cap.keep: audit_write kill net_bind_service setgid setuid setpcap'));
  t.ok(lxc.includes('lxc.prlimit.nofile: 1024:1024'));
  t.ok(lxc.includes(HOOK));
  t.same(lxc.filter((l) => l.startsWith('lxc.mount.entry')), ['lxc.mount.entry: /run/pxoci/test/ct .pxoci none bind,ro,create=dir 0 0', 'lxc.mount.entry: /run/pxoci/test/ct/run .pxoci/run none bind,create=dir 0 0'], 'no host path but the runtime dir');
  // The config's order as the container reads its mountinfo: LXC's /proc, the config's /dev from LXC's
  // fstab (before LXC fills /dev), then the hook's, with LXC's /sys bound again after /dev/mqueue.
  t.ok(lxc.includes('lxc.mount.fstab: /run/pxoci/test/ct/fstab'));
  t.equal(fstab, 'tmpfs dev tmpfs nosuid,strictatime,mode=755,size=65536k 0 0\n');
  t.match(hookPlan, [
    { op: 'mount', field: 'mounts[2]', destination: '/dev/pts', fstype: 'devpts', source: 'devpts', data: ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { op: 'rebind', field: 'mounts[2]', path: '/dev/pts' },
    { op: 'mount', field: 'mounts[3]', destination: '/dev/shm', fstype: 'tmpfs', source: 'shm', data: ['mode=1777', 'size=65536k'] },
    { op: 'mount', field: 'mounts[4]', destination: '/dev/mqueue', fstype: 'mqueue' },
    { op: 'rebind', field: 'mounts[5]', path: '/sys' },
  ]);
  t.ok(hookPlan.some((o) => o.op === 'mask' && o.path === '/proc/kcore'));
  t.ok(hookPlan.some((o) => o.op === 'readonly' && o.path === '/proc/sys'));
  t.same(hookPlan.at(-1), { op: 'root-readonly' });
  t.notOk(hookPlan.some((o) => o.op === 'mount' && o.destination === '/proc'), '/proc is provided by LXC');
  t.notOk(lxc.some((l) => l.includes('devices.deny: a')), 'the leading deny-all is LXC baseline');
});

t.test('a real podman 4.3 config translates (file binds as mount entries)', async (t) => {
  const podman = JSON.parse(readFileSync(join(top, 'test/fixtures/podman-4.3-run.json'), 'utf8'));
  const kinds: TranslateContext['pathKind'] = (p) => (/\/(hosts|hostname|resolv\.conf|\.containerenv)$/.test(p) ? 'file' : 'dir');
  const { config, init, namespacedSysctls, hookPlan, setupPlan } = translate(validateSpec(podman), { ...ctx, pathKind: kinds, rootfs: '/var/lib/x/merged' });
  const lxc = config.lxc.map(([k, v]) => `${k}: ${v}`);
  t.match(
    hookPlan.filter((o) => o.op === 'mount'),
    [
      { destination: '/dev/pts', fstype: 'devpts' },
      { destination: '/dev/mqueue', fstype: 'mqueue' },
      { destination: '/etc/hosts', mountPoint: 'file', source: /\/userdata\/hosts$/, flags: MS.BIND, remountFlags: 0 },
      { destination: '/dev/shm', mountPoint: 'dir', source: /\/userdata\/shm$/, flags: MS.BIND, remountFlags: MS.NOSUID | MS.NOEXEC | MS.NODEV },
      { destination: '/run/.containerenv', mountPoint: 'file' },
      { destination: '/etc/hostname', mountPoint: 'file' },
    ],
  );
  t.same(
    hookPlan.filter((o) => o.op === 'rebind').map((o) => o.op === 'rebind' && o.path),
    ['/sys', '/dev/pts'],
    "LXC's /sys again after the config's /dev; a bind on the config's devpts for LXC to detach",
  );
  // podman's rprivate on every bind is applied after LXC's pivot_root (which makes every mount shared).
  t.same(
    setupPlan.filter((o) => o.op === 'propagation').map((o) => o.op === 'propagation' && o.path),
    ['/etc/hosts', '/dev/shm', '/run/.containerenv', '/etc/hostname', '/sys/fs/cgroup'],
  );
  t.ok(lxc.includes(HOOK));
  t.ok(lxc.includes('lxc.cgroup2.pids.max: 2048'));
  t.equal(init.args[0], 'sh');
  t.same(namespacedSysctls, podman.linux.sysctl ? Object.entries(podman.linux.sysctl) : []);
});

t.test("mounts LXC makes itself keep the config's order", async (t) => {
  const withMounts = (mounts: object[]) => translate(validateSpec(spec((s) => (s.mounts = mounts as never))), ctx);
  const proc = { destination: '/proc', type: 'proc', source: 'proc' };
  const sys = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] };
  const rebinds = (mounts: object[]) => withMounts(mounts).hookPlan.filter((o) => o.op === 'rebind').map((o) => o.op === 'rebind' && o.path);
  t.same(rebinds([proc, sys]), [], "LXC's order already: nothing bound again");
  t.same(rebinds([sys, proc]), ['/proc'], 'LXC mounts /proc before /sys');
  t.same(rebinds([{ destination: '/scratch', type: 'tmpfs', source: 'tmpfs' }, proc]), ['/proc'], 'after a mount of the config');
  const dev = withMounts([proc, { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] }]);
  t.equal(dev.fstab, 'tmpfs dev tmpfs nosuid,nodev,size=1m 0 0\n');
  t.notOk(dev.hookPlan.some((o) => o.op === 'mount' && o.destination === '/dev'), '/dev is not the hook\'s: LXC fills the /dev it opens before the hook');
  t.equal(withMounts([proc]).fstab, undefined, "no /dev in the config: LXC's autodev");
  t.throws(() => withMounts([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro'] }]), /mounts\[0\]\.options: a read-only \/dev is not supported/);
  t.throws(() => withMounts([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }]), /mounts\[0\]\.options: tmpcopyup on \/dev/);
});

t.test('resources', async (t) => {
  const s = spec((s) => {
    s.linux = {
      resources: {
        memory: { limit: 268435456, swap: 536870912, reservation: 1000 },
        cpu: { shares: 512, quota: 150000, period: 100000, cpus: '0-1,3', mems: '0' },
        pids: { limit: 64 },
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, { allow: true, type: 'c', major: 136, access: 'rw' }],
        blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
        unified: { 'memory.oom.group': '1' },
      },
    };
  });
  const { config } = translate(s, ctx);
  t.match(config.options, { memory: '256', swap: '256', cpuunits: String(sharesToCpuunits(512)), cpulimit: '1.5', cores: '3' });
  t.same(pastPlumbing(s), [
    'lxc.cgroup2.memory.low: 1000',
    'lxc.cgroup2.cpuset.cpus: 0-1,3',
    'lxc.cgroup2.cpuset.mems: 0',
    'lxc.cgroup2.pids.max: 64',
    'lxc.cgroup2.devices.allow: c 10:200 rwm',
    'lxc.cgroup2.devices.allow: c 136:* rw',
    // runc's blkio → io.weight conversion: [10, 1000] → [1, 10000].
    'lxc.cgroup2.io.weight: default 4950',
    'lxc.cgroup2.io.max: 8:0 rbps=1048576',
    'lxc.cgroup2.memory.oom.group: 1',
  ]);
  t.equal(sharesToCpuunits(1024), 39);
  t.equal(sharesToCpuunits(2), 1);
  t.equal(sharesToCpuunits(262144), 10000);
});

t.test('mounts: all of them, in their order, through the mount hook; none as mpN', async (t) => {
  const s = spec((s) => {
    s.mounts = [
      { destination: '/data', type: 'bind', source: '/host/data', options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      { destination: '/rw', source: '/host/rw', options: ['bind', 'rprivate'] },
      { destination: '/etc/x.file', type: 'bind', source: '/host/x.file', options: ['bind', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=1777'] },
      { destination: '/proc', type: 'proc', source: 'proc' },
    ];
  });
  const { config, hookPlan } = translate(s, ctx);
  t.notOk(Object.keys(config.options).some((k) => /^mp\d+$/.test(k)), 'PVE mounts mpN before anything else and without rbind, so order and recursion could not be kept');
  t.same(pastPlumbing(s), [HOOK]);
  t.same(hookPlan, [
    { op: 'mount', field: 'mounts[0]', destination: '/data', mountPoint: 'dir', source: '/host/data', flags: MS.BIND | MS.REC, remountFlags: MS.RDONLY | MS.NOSUID | MS.NODEV, data: [], tmpcopyup: false },
    { op: 'mount', field: 'mounts[1]', destination: '/rw', mountPoint: 'dir', source: '/host/rw', flags: MS.BIND, remountFlags: 0, data: [], tmpcopyup: false },
    { op: 'mount', field: 'mounts[2]', destination: '/etc/x.file', mountPoint: 'file', source: '/host/x.file', flags: MS.BIND, remountFlags: MS.RDONLY, data: [], tmpcopyup: false },
    { op: 'mount', field: 'mounts[3]', destination: '/tmp', mountPoint: 'dir', source: 'tmpfs', fstype: 'tmpfs', flags: MS.NOSUID, remountFlags: 0, data: ['size=1m', 'mode=1777'], tmpcopyup: false },
    // LXC mounted /proc before all of these: its /proc shows again after them.
    { op: 'rebind', field: 'mounts[4]', path: '/proc' },
  ]);
  t.equal(
    encodeHookPlan(hookPlan),
    `mount mounts[0] /data d /host/data - ${MS.BIND | MS.REC} ${MS.RDONLY | MS.NOSUID | MS.NODEV} - 0\n` +
      `mount mounts[1] /rw d /host/rw - ${MS.BIND} 0 - 0\n` +
      `mount mounts[2] /etc/x.file f /host/x.file - ${MS.BIND} ${MS.RDONLY} - 0\n` +
      `mount mounts[3] /tmp d tmpfs tmpfs ${MS.NOSUID} 0 size=1m,mode=1777 0\n` +
      'rebind mounts[4] /proc\n',
  );
});

t.test('mounts: a nested bind before its parent stays in that order (PVE would mount mpN first, by key)', async (t) => {
  const { hookPlan } = translate(
    spec((s) => {
      s.mounts = [
        { destination: '/mnt/x/y', type: 'bind', source: '/host/y', options: ['bind'] },
        { destination: '/mnt/x', type: 'bind', source: '/host/x', options: ['bind'] },
      ];
    }),
    ctx,
  );
  t.same(hookPlan.map((o) => o.op === 'mount' && o.destination), ['/mnt/x/y', '/mnt/x']);
});

t.test('mount options: every runc option is applied or refused by name, none dropped', async (t) => {
  const plan = (options: string[], type = 'tmpfs', source = 'tmpfs') => translate(spec((s) => (s.mounts = [{ destination: '/m', type, source, options }])), ctx);
  const tmpfs = plan(['tmpcopyup', 'strictatime', 'mode=755', 'size=65536k', 'rshared']);
  t.match(tmpfs.hookPlan[0], { op: 'mount', tmpcopyup: true, flags: MS.STRICTATIME, data: ['mode=755', 'size=65536k'] });
  t.same(tmpfs.setupPlan.filter((o) => o.op === 'propagation'), [{ op: 'propagation', field: 'mounts[0]', path: '/m', flags: MS.SHARED | MS.REC }]);
  const bind = plan(['rbind', 'strictatime', 'mode=755', 'size=1m', 'slave', 'noatime', 'rw'], 'bind', '/host/d');
  t.match(bind.hookPlan[0], { flags: MS.BIND | MS.REC, remountFlags: MS.STRICTATIME | MS.NOATIME, data: ['mode=755', 'size=1m'] }, 'strictatime and mode=/size= on a bind: accepted as runc accepts them');
  t.same(bind.setupPlan.filter((o) => o.op === 'propagation'), [{ op: 'propagation', field: 'mounts[0]', path: '/m', flags: MS.SLAVE }]);
  for (const [options, type, re] of [
    [['tmpcopyup'], 'bind', /^mounts\[0\]\.options: tmpcopyup applies to tmpfs mounts only$/],
    [['rro'], 'tmpfs', /^mounts\[0\]\.options: recursive mount attribute "rro" is not supported/],
    [['bind', 'idmap'], 'bind', /^mounts\[0\]\.options: option "idmap"/],
  ] as const) {
    t.throws(() => plan([...options], type, type === 'bind' ? '/host/d' : 'tmpfs'), re);
  }
});

t.test('linux.rootfsPropagation: applied before the mounts, and (unless private or slave) again after them, as runc', async (t) => {
  const setup = (p: string) => translate(spec((s) => ((s.linux = { rootfsPropagation: p }), (s.mounts = [{ destination: '/m', type: 'tmpfs', options: ['rprivate'] }]))), ctx).setupPlan;
  t.same(setup('rshared'), [
    { op: 'ptmx' },
    { op: 'root-propagation', flags: MS.SHARED | MS.REC },
    { op: 'propagation', field: 'mounts[0]', path: '/m', flags: MS.PRIVATE | MS.REC },
    { op: 'root-propagation', flags: MS.SHARED | MS.REC },
  ]);
  t.same(setup('slave'), [{ op: 'ptmx' }, { op: 'root-propagation', flags: MS.SLAVE }, { op: 'propagation', field: 'mounts[0]', path: '/m', flags: MS.PRIVATE | MS.REC }]);
  t.same(setup('private'), [{ op: 'ptmx' }, { op: 'root-propagation', flags: MS.PRIVATE }, { op: 'propagation', field: 'mounts[0]', path: '/m', flags: MS.PRIVATE | MS.REC }]);
  t.equal(encodeSetupPlan(setup('unbindable')), `ptmx\nroot-propagation ${MS.UNBINDABLE}\npropagation mounts[0] /m ${MS.PRIVATE | MS.REC}\nroot-propagation ${MS.UNBINDABLE}\n`);
});

t.test("masked and read-only paths are the container's own, never a host path", async (t) => {
  const { config, hookPlan } = translate(spec((s) => (s.linux = { maskedPaths: ['/secret', '/proc/kcore', '/missing-on-host'], readonlyPaths: ['/root', '/proc/sys'] })), ctx);
  t.notOk(config.lxc.some(([k, v]) => k === 'lxc.mount.entry' && !/^\/run\/pxoci\/test\/ct(\/run)? /.test(v)), 'no lxc.mount.entry binds a host path');
  t.same(hookPlan, [
    { op: 'readonly', field: 'linux.readonlyPaths[0]', path: '/root' },
    { op: 'readonly', field: 'linux.readonlyPaths[1]', path: '/proc/sys' },
    { op: 'mask', field: 'linux.maskedPaths[0]', path: '/secret' },
    { op: 'mask', field: 'linux.maskedPaths[1]', path: '/proc/kcore' },
    { op: 'mask', field: 'linux.maskedPaths[2]', path: '/missing-on-host' },
  ]);
});

t.test('bind sources and the rootfs go into the config by their real paths', async (t) => {
  const { hookPlan } = translate(spec((s) => (s.mounts = [{ destination: '/d', type: 'bind', source: '/link/data', options: ['bind'] }])), { ...ctx, rootfs: '/real/bundle/rootfs' });
  t.match(hookPlan[0], { source: '/real/data' });
  t.equal(translate(spec(), { ...ctx, rootfs: '/real/bundle/rootfs' }).config.options.rootfs, '/real/bundle/rootfs');
  t.throws(() => translate(spec((s) => (s.mounts = [{ destination: '/d', type: 'bind', source: '/host/missing' }])), ctx), /^mounts\[0\]\.source: \/host\/missing: no such file or directory$/);
});

t.test('the mount hook is a shell word: a runtime dir the shell would read otherwise is refused', async (t) => {
  const s = spec((s) => (s.linux = { maskedPaths: ['/proc/kcore'] }));
  t.throws(() => translate(s, { ...ctx, runtimeDir: '/run/$(reboot)/ct' }), /^runtime directory: .*sh -c/);
});

t.test('process fields', async (t) => {
  const s = spec((s) => {
    s.process = {
      args: ['/bin/x', 'a b'],
      cwd: '/w',
      env: ['A=1', 'B=two words'],
      terminal: true,
      consoleSize: { height: 33, width: 101 },
      user: { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o22 },
      noNewPrivileges: true,
      oomScoreAdj: 100,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }],
      capabilities: { bounding: [] },
      apparmorProfile: 'lxc-container-default',
    };
  });
  const { init, config } = translate(s, ctx);
  const none = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  t.same(init, { args: ['/bin/x', 'a b'], env: ['A=1', 'B=two words'], cwd: '/w', uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o22, terminal: true, noNewPrivileges: true, rlimits: [], oomScoreAdj: 100, capabilities: none, consoleSize: { height: 33, width: 101 } });
  t.same(config.lxc.slice(0, 4), [
    ['lxc.prlimit.nofile', '10:20'],
    ['lxc.cap.drop', ''],
    ['lxc.cap.keep', 'setgid setuid setpcap'],
    ['lxc.apparmor.profile', 'lxc-container-default'],
  ]);
  t.equal(
    encodeInitSpec(init).toString('utf8'),
    'arg\0/bin/x\0arg\0a b\0env\0A=1\0env\0B=two words\0cwd\0/w\0uid\x001000\0gid\x00100\0group\x005\0group\x006\0umask\x0022\0terminal\x001\0nnp\x001\0oom\x00100\0' +
      'cap.bounding\x000\0cap.effective\x000\0cap.permitted\x000\0cap.inheritable\x000\0cap.ambient\x000\0winsize\x0033:101\0',
  );
});

t.test('user namespaces', async (t) => {
  const pveDefault = spec((s) => {
    s.linux = { namespaces: [...privateNs, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
  });
  t.equal(translate(pveDefault, ctx).config.options.unprivileged, '1');
  t.same(pastPlumbing(pveDefault), []);
  const custom = spec((s) => {
    s.linux = { namespaces: [...privateNs, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 200000, size: 1000 }], gidMappings: [{ containerID: 0, hostID: 200000, size: 1000 }] };
  });
  t.same(pastPlumbing(custom), ['lxc.idmap: u 0 200000 1000', 'lxc.idmap: g 0 200000 1000']);
});

t.test('hostnames: given, or derived from the id', async (t) => {
  t.equal(hostnameFor(spec((s) => (s.hostname = 'web-1')), 'x'), 'web-1');
  t.equal(hostnameFor(spec(), 'a'.repeat(64)), 'aaaaaaaaaaaa', '64-hex engine ids are cut to 12');
  t.equal(hostnameFor(spec(), 'My_Container.1'), 'my-container-1');
});

t.test('rejections name the field', async (t) => {
  const cases: Array<[string, (s: any) => void, RegExp]> = [
    ['newline in hostname', (s) => (s.hostname = 'a\nlxc.x: 1'), /^hostname: .* is not a valid DNS name$/],
    ['lxc key smuggled in a mount source', (s) => (s.mounts = [{ destination: '/x', type: 'bind', source: '/a\nlxc.apparmor.profile: unconfined' }]), /^mounts\[0\]\.source: contains a control character$/],
    ['property injection in a source', (s) => (s.mounts = [{ destination: '/x', type: 'bind', source: '/a,mp=/etc' }]), /^mounts\[0\]\.source: .*','/],
    ['.. in a destination', (s) => (s.mounts = [{ destination: '/a/../etc', type: 'bind', source: '/a' }]), /^mounts\[0\]\.destination: .*'\.\.'/],
    ['NUL in env', (s) => (s.process.env = ['A=\0']), /^process\.env\[0\]: contains a NUL byte$/],
    ['pid namespace path', (s) => (s.linux = { namespaces: [{ type: 'pid', path: '/proc/1/ns/pid' }, { type: 'mount' }] }), /^linux\.namespaces\[0\]\.path: pid: pxoci joins only network, IPC and UTS namespaces/],
    ['host sysctl', (s) => (s.linux = { sysctl: { 'kernel.panic': '1' } }), /^linux\.sysctl\["kernel\.panic"\]: PVE accepts only the IPC sysctls/],
    ['NUL in a hook argument', (s) => (s.hooks = { prestart: [{ path: '/bin/true', args: ['true', 'a\0b'] }] }), /^hooks\.prestart\[0\]\.args\[1\]: contains a NUL byte$/],
    ['hook env without =', (s) => (s.hooks = { poststop: [{ path: '/bin/true', env: ['A'] }] }), /^hooks\.poststop\[0\]\.env\[0\]: must be NAME=value$/],
    ['tiny memory', (s) => (s.linux = { resources: { memory: { limit: 1024 } } }), /^linux\.resources\.memory\.limit: becomes PVE's memory: 1, which PVE refuses: value must have a minimum value of 16$/],
    ['unlimited swap', (s) => (s.linux = { resources: { memory: { limit: 1 << 30, swap: -1 } } }), /^linux\.resources\.memory\.swap: /],
    ['mount type', (s) => (s.mounts = [{ destination: '/x', type: 'nfs', source: 'srv:/x' }]), /^mounts\[0\]\.type: mount type "nfs"/],
    ['missing bind source', (s) => (s.mounts = [{ destination: '/x', type: 'bind', source: '/missing' }]), /^mounts\[0\]\.source: \/missing: no such file or directory$/],
    ['domainname', (s) => (s.domainname = 'x'), /^domainname: /],
  ];
  for (const [name, patch, pattern] of cases) {
    t.throws(() => translate(spec(patch), ctx), pattern, name);
  }
  t.throws(() => validateSpec({ ociVersion: '1.0.0', root: { path: 'r' }, bogus: 1 }), /^config\.json: bogus: unknown field/);
  t.throws(() => validateSpec({ ociVersion: '1.0.0', root: { path: 'r' }, process: { args: 'sh', cwd: '/' } }), /^config\.json: process\.args: must be array$/);
});

t.test("PVE's limits: the last value PVE takes is translated, the next one refused naming the field", async (t) => {
  const MiB = 1024 * 1024;
  const withResources = (r: object) => spec((s) => (s.linux = { resources: r }));
  t.equal(translate(withResources({ memory: { limit: 16 * MiB } }), ctx).config.options.memory, '16');
  t.throws(() => translate(withResources({ memory: { limit: 15 * MiB } }), ctx), { field: 'linux.resources.memory.limit', message: /: value must have a minimum value of 16$/ });
  t.equal(translate(withResources({ cpu: { quota: 8192 * 100000, period: 100000 } }), ctx).config.options.cpulimit, '8192');
  t.throws(() => translate(withResources({ cpu: { quota: 8193 * 100000, period: 100000 } }), ctx), { field: 'linux.resources.cpu.quota', message: /^linux\.resources\.cpu\.quota: becomes PVE's cpulimit: 8193, which PVE refuses: value must have a maximum value of 8192$/ });
  t.equal(translate(withResources({ cpu: { shares: 300000 } }), ctx).config.options.cpuunits, '10000', 'clamped to cgroup v2 cpu.weight, as PVE does');
  // Binds are the mount hook's, not mpN: PVE's 256 mount points do not limit them.
  const binds = (n: number) => spec((s) => (s.mounts = Array.from({ length: n }, (_, i) => ({ destination: `/m${i}`, type: 'bind', source: `/s${i}` }))));
  t.equal(translate(binds(300), ctx).hookPlan.length, 300);
});

t.test('values PVE would refuse never reach the file: checked against its option schema, naming the OCI field', async (t) => {
  const withResources = (r: object) => spec((s) => (s.linux = { resources: r }));
  // Issue 12 item 10: these were written as cores: -3, cores: 100000, memory: 9.5367431640625e+293.
  t.throws(() => translate(withResources({ cpu: { cpus: '5-1' } }), ctx), { field: 'linux.resources.cpu.cpus', message: /"5-1" is not a CPU list: the range 5-1 runs backwards$/ });
  t.equal(translate(withResources({ cpu: { cpus: '0-8191' } }), ctx).config.options.cores, '8192');
  t.throws(() => translate(withResources({ cpu: { cpus: '0-99999' } }), ctx), {
    field: 'linux.resources.cpu.cpus',
    message: /^linux\.resources\.cpu\.cpus: becomes PVE's cores: 100000, which PVE refuses: value must have a maximum value of 8192$/,
  });
  t.throws(() => withResources({ memory: { limit: 1e300 } }), /^config\.json: linux\.resources\.memory\.limit: must be <= 9223372036854775807 \(an int64\)$/, 'an int64, as the OCI schema says');
  t.equal(translate(withResources({ memory: { limit: 2 ** 62 } }), ctx).config.options.memory, String(2 ** 42), 'the largest limits are whole MiB');
  t.throws(() => translate(withResources({ memory: { limit: -1 } }), ctx), { field: 'linux.resources.memory.limit', message: /-1 \(unlimited\) is not expressible/ });
  t.equal(translate(withResources({ cpu: { quota: -1 } }), ctx).config.options.cpulimit, '0', 'quota -1 is no limit, which cpulimit 0 is');
  t.same(pastPlumbing(withResources({ pids: { limit: -1 } })), ['lxc.cgroup2.pids.max: max']);
  t.throws(() => translate(withResources({ pids: { limit: -2 } }), ctx), { field: 'linux.resources.pids.limit', message: /-2 is not a limit/ });
  t.throws(() => withResources({ blockIO: { weight: 5 } }), /^config\.json: linux\.resources\.blockIO\.weight: must be >= 10$/);
  t.throws(() => translate(withResources({ unified: { 'cgroup.procs': '1' } }), ctx), { field: 'linux.resources.unified["cgroup.procs"]', message: /cgroup core file/ });

  const fuse = { type: 'c', path: '/dev/fuse', major: 10, minor: 229 };
  const devices = (n: number) => spec((s) => (s.linux = { devices: Array.from({ length: n }, () => fuse) }));
  t.equal(translate(devices(300), ctx).config.lxc.filter(([k]) => k === 'lxc.cgroup2.devices.allow').length, 300, 'not bounded by dev0…dev255');
});

t.test('property: whatever linux.resources come in, every option written passes PVE\'s schema', async (t) => {
  const runs = 300;
  let accepted = 0;
  const number = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer(), fc.double({ min: -1e20, max: 1e20, noNaN: true }).map(Math.trunc), fc.constantFrom(2 ** 63, 1e300));
  const cpus = fc.oneof(fc.string(), fc.stringMatching(/^\d{1,6}(-\d{1,6})?(,\d{1,6}(-\d{1,6})?)?$/));
  const wild = fc.record({ memory: fc.record({ limit: number, swap: number }, { requiredKeys: [] }), cpu: fc.record({ shares: number, quota: number, period: number, cpus }, { requiredKeys: [] }) }, { requiredKeys: [] });
  // Half the records hold values a config plausibly has, so that a steady share is accepted and its options
  // checked: from edge cases alone about one in ten was, and a run could fall short of the floor below.
  const plausible = fc.record(
    {
      memory: fc.record({ limit: fc.integer({ min: 16 * 2 ** 20, max: 2 ** 40 }) }, { requiredKeys: [] }),
      cpu: fc.record({ shares: fc.integer({ min: 2, max: 262_144 }), quota: fc.integer({ min: 1000, max: 1_000_000 }), period: fc.integer({ min: 1000, max: 1_000_000 }), cpus: fc.stringMatching(/^[0-3](-[4-7])?$/) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(wild, plausible), (resources) => {
      let out;
      try {
        out = translate(spec((s) => (s.linux = { resources })), ctx);
      } catch (e) {
        if (e instanceof ConfigError && /^(config\.json: )?linux\.resources\.(memory|cpu)\.\w+$/.test(e.field)) return true;
        throw e;
      }
      accepted++;
      return Object.entries(out.config.options).every(([k, v]) => checkOption(k, v) === undefined);
    }),
    { numRuns: runs },
  );
  t.ok(accepted >= runs / 4, `${accepted} of ${runs} random resources were accepted and checked`);
});

t.test("pxoci's own /.pxoci is refused as a mount destination, masked or read-only path, by name", async (t) => {
  for (const dest of ['/.pxoci', '/.pxoci/', '//.pxoci', '/.pxoci/init', '/.pxoci/x/y']) {
    t.throws(() => translate(spec((s) => (s.mounts = [{ destination: dest, type: 'tmpfs', source: 'tmpfs' }])), ctx), { field: 'mounts[0].destination', message: /is pxoci's own runtime directory \(\/\.pxoci\), reserved in every container$/ }, dest);
    t.throws(() => translate(spec((s) => (s.mounts = [{ destination: dest, type: 'bind', source: '/b' }])), ctx), { field: 'mounts[0].destination', message: /reserved/ }, `${dest} (bind)`);
  }
  t.throws(() => translate(spec((s) => (s.linux = { maskedPaths: ['/.pxoci'] })), ctx), { field: 'linux.maskedPaths[0]', message: /reserved/ });
  t.throws(() => translate(spec((s) => (s.linux = { readonlyPaths: ['/.pxoci/init'] })), ctx), { field: 'linux.readonlyPaths[0]', message: /reserved/ });
  t.throws(() => translate(spec((s) => (s.linux = { devices: [{ path: '/.pxoci/null', type: 'c', major: 1, minor: 3 }] })), ctx), { field: 'linux.devices[0].path', message: /reserved/ });
  for (const dest of ['/.pxocix', '/x/.pxoci', '/.pxoc']) t.doesNotThrow(() => translate(spec((s) => (s.mounts = [{ destination: dest, type: 'tmpfs', source: 'tmpfs' }])), ctx), dest);
});

t.test('the field table: one row per path, and rejection reasons looked up by a row tsc knows', async (t) => {
  const paths = FIELDS.map((f) => f.path);
  t.equal(new Set(paths).size, paths.length, 'docs/fields.md and the conformance results key on the path');
  t.equal(rejectionReason('domainname'), 'PVE sets no NIS domain name for a CT');
  // @ts-expect-error: not a row of the table, so it does not compile (npx tsc checks this file)
  t.throws(() => rejectionReason('domain-name'), /^src\/oci\/fields\.ts has no rejected row "domain-name"$/);
  // @ts-expect-error: a row, but not a rejected one
  t.throws(() => rejectionReason('hostname'), /no rejected row "hostname"/);
});

t.test('linux.devices: nodes pxoci makes (absent on the host too), no devN; the ones LXC owns stay LXC\'s', async (t) => {
  const devices = [
    { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 5 },
    { type: 'b', path: '/dev/not-on-the-host', major: 7, minor: 99 },
    { type: 'c', path: '/dev/null', major: 1, minor: 3 },
    { type: 'c', path: '/dev/ptmx', major: 5, minor: 2 },
    { type: 'c', path: '/dev/console', major: 5, minor: 1 },
    { type: 'c', path: '/dev/tty1', major: 4, minor: 1 },
    { type: 'p', path: '/dev/fifo' },
  ];
  const { config, hookPlan, setupPlan } = translate(spec((s) => (s.linux = { devices, resources: { devices: [{ allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }] } })), ctx);
  t.notOk(Object.keys(config.options).some((k) => /^dev\d+$/.test(k)), 'PVE 8.1 … 9.x refuse devN in a privileged CT');
  t.equal(config.options.tty, '0', "LXC's own /dev/tty1 … would cover a node named there");
  t.same(
    config.lxc.filter(([k]) => k.startsWith('lxc.cgroup2.devices')).map(([k, v]) => `${k}: ${v}`),
    ['lxc.cgroup2.devices.allow: c 10:229 rwm', 'lxc.cgroup2.devices.allow: b 7:99 rwm', 'lxc.cgroup2.devices.allow: c 4:1 rwm', 'lxc.cgroup2.devices.deny: c 10:229 rwm'],
    'allowed before linux.resources.devices, which can still deny',
  );
  t.same(hookPlan.map((o) => o.op === 'node' && o.path), ['/dev/fuse', '/dev/not-on-the-host', '/dev/tty1', '/dev/fifo']);
  t.same(setupPlan.filter((o) => o.op === 'device'), [
    { op: 'device', field: 'linux.devices[0]', path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o600, uid: 0, gid: 5 },
    { op: 'device', field: 'linux.devices[1]', path: '/dev/not-on-the-host', type: 'b', major: 7, minor: 99, mode: 0o666, uid: 0, gid: 0 },
    { op: 'device', field: 'linux.devices[5]', path: '/dev/tty1', type: 'c', major: 4, minor: 1, mode: 0o666, uid: 0, gid: 0 },
    { op: 'device', field: 'linux.devices[6]', path: '/dev/fifo', type: 'p', major: 0, minor: 0, mode: 0o666, uid: 0, gid: 0 },
  ]);
  t.match(encodeSetupPlan(setupPlan), /^device linux\.devices\[0\] \/dev\/fuse c 10 229 0600 0 5\n/);
});

t.test('property: whatever strings come in, the written config parses back to the same and has only allowed keys', async (t) => {
  const runs = 500;
  let accepted = 0;
  const wildStrings = fc.tuple(fc.string(), fc.string(), fc.array(fc.string(), { maxLength: 3 }));
  const plainStrings = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.stringMatching(/^[a-z0-9._-]{1,20}$/), fc.array(fc.stringMatching(/^[ -~]{0,20}$/), { maxLength: 3 }));
  fc.assert(
    // Half the cases are plain names and printable values, so that a steady share is accepted and round-
    // tripped; arbitrary strings alone were accepted about one time in four, and a run could fall short.
    fc.property(fc.oneof(wildStrings, plainStrings), ([hostname, source, env]) => {
      let out;
      try {
        out = translate(
          spec((s) => {
            s.hostname = hostname;
            s.mounts = [{ destination: '/m', type: 'bind', source: '/' + source }];
            s.process.env = env.map((e) => `K=${e}`);
          }),
          ctx,
        );
      } catch (e) {
        // A refusal is fine only as a ConfigError naming one of the three fields that vary here.
        if (e instanceof ConfigError && /^(hostname|mounts\[0\]\.source|process\.env\[[0-2]\])$/.test(e.field)) return true;
        throw e;
      }
      accepted++;
      const text = writePctConfig(out.config);
      const { config, warnings } = parsePctConfig(text, 100);
      const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort());
      return warnings.length === 0 && sorted(config.options) === sorted(out.config.options) && JSON.stringify(config.lxc) === JSON.stringify(out.config.lxc) && config.lxc.every(([k]) => checkRawLxcKey(k).ok);
    }),
    { numRuns: runs },
  );
  // Without enough accepted configs the round trip would go unchecked.
  t.ok(accepted >= runs / 4, `${accepted} of ${runs} random configs were accepted and round-tripped`);
});

t.test('docs/fields.md is generated from the field table and current', async (t) => {
  const r = spawnSync(process.execPath, [join(top, 'scripts/gen-fields-doc.mjs'), '--check'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});

const GPU_CTX: TranslateContext = ctx;

t.test('a ZLayer-like full config: exact PVE config', async (t) => {
  const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
  const allow = (major: number, minor?: number) => ({ allow: true, type: 'c', major, ...(minor === undefined ? {} : { minor }), access: 'rwm' });
  const s = spec((s) => {
    s.hostname = 'zl-web';
    s.process = { args: ['/app'], cwd: '/srv', env: ['PATH=/usr/bin'], user: { uid: 0, gid: 0 }, capabilities: { bounding: caps, effective: caps, permitted: caps }, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 65536, hard: 65536 }], noNewPrivileges: true };
    s.mounts = [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      { destination: '/data', type: 'bind', source: '/var/lib/zlayer/vol/data', options: ['rbind', 'rw'] },
      { destination: '/config', type: 'bind', source: '/var/lib/zlayer/vol/config', options: ['rbind', 'ro'] },
    ];
    s.linux = {
      namespaces: privateNs,
      devices: [{ type: 'c', path: '/dev/nvidia0', major: 195, minor: 0 }, { type: 'c', path: '/dev/nvidiactl', major: 195, minor: 255 }, { type: 'c', path: '/dev/dri/renderD128', major: 226, minor: 128, fileMode: 0o660, gid: 44 }],
      resources: {
        devices: [{ allow: false, access: 'rwm' }, allow(1, 3), allow(1, 5), allow(1, 7), allow(1, 8), allow(1, 9), allow(5, 0), allow(5, 1), allow(5, 2), allow(136), allow(195), allow(226)],
        memory: { limit: 512 * 1024 * 1024 },
        cpu: { quota: 50000, period: 100000 },
      },
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      seccomp: { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }] },
    };
  });
  const { config, init, hookPlan } = translate(s, GPU_CTX);
  t.same(config.options, {
    arch: 'amd64', ostype: 'unmanaged', hostname: 'zl-web', rootfs: '/b/rootfs', tty: '0',
    memory: '512', cpulimit: '0.5',
  });
  t.same(config.lxc.map(([k, v]) => `${k}: ${v}`), [
    'lxc.prlimit.nofile: 65536:65536',
    'lxc.cap.drop: ',
    'lxc.cap.keep: chown dac_override fsetid fowner mknod net_raw setgid setuid setfcap setpcap net_bind_service sys_chroot kill audit_write',
    'lxc.init.cmd: /.pxoci/init',
    'lxc.mount.entry: /run/pxoci/test/ct .pxoci none bind,ro,create=dir 0 0',
    'lxc.mount.entry: /run/pxoci/test/ct/run .pxoci/run none bind,create=dir 0 0',
    'lxc.mount.auto: cgroup:ro:force',
    'lxc.mount.fstab: /run/pxoci/test/ct/fstab',
    ...['195:0', '195:255', '226:128'].map((d) => `lxc.cgroup2.devices.allow: c ${d} rwm`),
    ...['1:3', '1:5', '1:7', '1:8', '1:9', '5:0', '5:1', '5:2', '136:*', '195:*', '226:*'].map((d) => `lxc.cgroup2.devices.allow: c ${d} rwm`),
    HOOK,
    'lxc.seccomp.profile: /run/pxoci/test/ct/seccomp',
  ]);
  t.same(
    hookPlan.map((o) => (o.op === 'mount' ? `${o.op} ${o.destination}` : o.op === 'root-readonly' ? o.op : `${o.op} ${o.path}`)),
    [
      'mount /dev/pts', 'rebind /dev/pts', 'mount /dev/shm', 'mount /dev/mqueue', 'rebind /sys', 'mount /data', 'mount /config',
      'node /dev/nvidia0', 'node /dev/nvidiactl', 'node /dev/dri/renderD128',
      ...['bus', 'fs', 'irq', 'sys', 'sysrq-trigger'].map((p) => `readonly /proc/${p}`),
      ...['acpi', 'asound', 'kcore', 'keys', 'latency_stats', 'timer_list', 'timer_stats', 'sched_debug', 'scsi'].map((p) => `mask /proc/${p}`),
      'mask /sys/firmware',
    ],
  );
  const kept = [29, 0, 1, 4, 3, 5, 10, 13, 6, 7, 8, 18, 31, 27].sort((a, b) => a - b);
  const sets = init.capabilities!;
  t.same([...sets.bounding].sort((a, b) => a - b), kept, 'the engine default set, by number');
  t.same(sets.effective, sets.bounding);
  t.same({ ...init, capabilities: undefined }, { args: ['/app'], env: ['PATH=/usr/bin'], cwd: '/srv', uid: 0, gid: 0, additionalGids: [], umask: undefined, terminal: false, noNewPrivileges: true, rlimits: [], oomScoreAdj: undefined, capabilities: undefined });
  t.notOk('description' in config, 'the runtime writes the ownership description itself');
});

t.test('capability sets go to the init by number, for any uid; unknown names are rejected by set', async (t) => {
  const c = ['CAP_KILL', 'CAP_CHOWN'];
  const nonRoot = translate(spec((s) => ((s.process.user = { uid: 1000, gid: 1000 }), (s.process.capabilities = { bounding: c, effective: ['CAP_KILL'], permitted: c, inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] }))), ctx);
  t.same(nonRoot.init.capabilities, { bounding: [5, 0], effective: [5], permitted: [5, 0], inheritable: [5], ambient: [5] });
  const records = ['cap.bounding', '21', 'cap.effective', '20', 'cap.permitted', '21', 'cap.inheritable', '20', 'cap.ambient', '20'].join('\0');
  t.ok(encodeInitSpec(nonRoot.init).toString('latin1').includes(records), 'hex masks by capability number');
  t.same(nonRoot.config.lxc.filter(([k]) => k.startsWith('lxc.cap.')), [['lxc.cap.drop', ''], ['lxc.cap.keep', 'kill chown setgid setuid setpcap']]);
  t.equal(translate(spec(), ctx).init.capabilities, undefined, 'no capabilities field: the init leaves them as the uid gets them');
  t.throws(() => translate(spec((s) => (s.process.capabilities = { bounding: c, ambient: ['CAP_NO_SUCH'] })), ctx), /^process\.capabilities\.ambient: unknown capability "CAP_NO_SUCH"$/);
  t.throws(() => translate(spec((s) => (s.process.capabilities = { bounding: ['CAP_NO_SUCH'] })), ctx), /^process\.capabilities\.bounding: unknown capability/);
});

t.test('namespaces: network, IPC and UTS joined by path or left to the host; pid and mount must be private', async (t) => {
  const without = (...types: string[]) => privateNs.filter((n) => !types.includes(n.type));
  t.throws(() => translate(spec((s) => (s.linux = { namespaces: without('pid') })), ctx), /^linux\.namespaces: no "pid" namespace: an absent namespace means the host's one/);
  t.throws(() => translate(spec((s) => (s.linux = { namespaces: without('mount') })), ctx), /^linux\.namespaces: no "mount" namespace: /);
  t.throws(() => translate(spec((s) => (s.linux = { namespaces: [...privateNs, { type: 'cgroup', path: '/proc/1/ns/cgroup' }] })), ctx), /^linux\.namespaces\[5\]\.path: cgroup: pxoci joins only/);
  t.throws(() => translate(spec((s) => (s.linux = { namespaces: privateNs.map((n) => (n.type === 'mount' ? { ...n, path: '/proc/1/ns/mnt' } : n)) })), ctx), /^linux\.namespaces\[4\]\.path: mount: /);
  t.throws(() => translate(spec((s) => (s.linux = { namespaces: privateNs.map((n) => (n.type === 'ipc' ? { ...n, path: 'ns/ipc' } : n)) })), ctx), /^linux\.namespaces\[2\]\.path: must be an absolute path/);
  const none = translate(spec((s) => (s.linux = { namespaces: privateNs })), ctx);
  t.same(none.namespaceJoins, [], 'all private: nothing to join (cgroup absent: LXC makes it private anyway)');
  t.equal(none.init.joinNamespaces, undefined);

  // podman's bridge: the network namespace by path; --ipc host: none listed.
  const mixed = spec((s) => {
    s.hostname = 'web';
    s.process.capabilities = { bounding: ['CAP_KILL'] };
    s.linux = { namespaces: privateNs.filter((n) => n.type !== 'ipc').map((n) => (n.type === 'network' ? { ...n, path: '/run/netns/x' } : n)), sysctl: { 'net.ipv4.ip_forward': '1' } };
  });
  const out = translate(mixed, ctx);
  t.same(out.namespaceJoins, [{ type: 'network', path: '/run/netns/x', field: 'linux.namespaces[1].path' }, { type: 'ipc', field: 'linux.namespaces' }]);
  t.same(out.init.joinNamespaces, ['network', 'ipc'], "the init joins them, in the launcher's fd order");
  t.equal(out.init.hostname, undefined, "the UTS namespace is the CT's own: PVE's hostname option sets it");
  t.match(encodeInitSpec(out.init).toString('latin1'), 'join\0net\0join\0ipc\0');
  t.ok(out.config.lxc.some(([k, v]) => k === 'lxc.cap.keep' && v.split(' ').includes('sys_admin')), 'the CT keeps CAP_SYS_ADMIN for the init to join with');
  t.same(out.namespacedSysctls, [['net.ipv4.ip_forward', '1']], 'a net sysctl of a joined network namespace');

  const utsPath = translate(spec((s) => ((s.hostname = 'pod'), (s.linux = { namespaces: privateNs.map((n) => (n.type === 'uts' ? { ...n, path: '/proc/9/ns/uts' } : n)) }))), ctx);
  t.equal(utsPath.init.hostname, 'pod', 'the hostname goes into a UTS namespace joined by path, as runc sets it');
  t.notOk(utsPath.config.lxc.some(([k]) => k === 'lxc.cap.keep'), 'without process.capabilities the CT keeps its default set');

  const hostNs = (...types: string[]) => (s: any) => (s.linux = { ...s.linux, namespaces: without(...types) });
  t.throws(() => translate(spec((s) => ((s.hostname = 'x'), hostNs('uts')(s))), ctx), /^hostname: needs a private UTS namespace/);
  t.throws(() => translate(spec((s) => ((s.linux = { sysctl: { 'net.ipv4.ip_forward': '1' } }), hostNs('network')(s))), ctx), /^linux\.sysctl\["net\.ipv4\.ip_forward"\]: is not allowed in the host's network namespace/);
  t.throws(() => translate(spec((s) => ((s.linux = { sysctl: { 'kernel.shmmax': '1' } }), hostNs('ipc')(s))), ctx), /^linux\.sysctl\["kernel\.shmmax"\]: is not allowed in the host's ipc namespace/);
  t.throws(
    () => translate(spec((s) => (s.linux = { namespaces: [...privateNs.map((n) => (n.type === 'network' ? { ...n, path: '/run/netns/x' } : n)), { type: 'user' }] })), ctx),
    /^linux\.namespaces\[5\]: linux\.namespaces\[1\]\.path \(network\): the init of a user-namespaced \(unprivileged\) CT has no capability/,
  );
  t.throws(() => translate(spec((s) => (s.linux = { namespaces: [...without('uts'), { type: 'user' }] })), ctx), /^linux\.namespaces\[4\]: the host's uts namespace \(no "uts" in linux\.namespaces\): /);
});

t.test('no config.json field is silently ignored: each is applied, accepted as provided/recorded, or rejected by name', async (t) => {
  const schema = JSON.parse(readFileSync(join(top, 'schemas/config-schema.json'), 'utf8'));
  const leaves: string[] = [];
  const walk = (node: any, path: string, depth = 0): void => {
    if (node?.$ref) node = schema.definitions[node.$ref.split('/').pop()];
    if (!node || depth > 8) return;
    const item = node.items?.$ref ? schema.definitions[node.items.$ref.split('/').pop()] : node.items;
    if (node.properties) for (const [k, v] of Object.entries(node.properties)) walk(v, path ? `${path}.${k}` : k, depth + 1);
    else if (item?.properties) walk(item, `${path}[]`, depth + 1);
    else leaves.push(path);
  };
  walk(schema, '');
  type Expect = 'applied' | 'accepted' | RegExp;
  const dev = { major: 8, minor: 0 };
  const table: Record<string, [(s: any) => void, Expect]> = {
    ociVersion: [(s) => (s.ociVersion = '1.0.0'), 'accepted'],
    hostname: [(s) => (s.hostname = 'h'), 'applied'],
    domainname: [(s) => (s.domainname = 'd'), /^domainname$/],
    'root.path': [(s) => (s.root.path = 'other'), 'accepted'], // resolved by the runtime into ctx.rootfs
    'root.readonly': [(s) => (s.root.readonly = true), 'applied'],
    'mounts[].destination': [(s) => (s.mounts = [{ destination: '/t', type: 'tmpfs', source: 'tmpfs' }]), 'applied'],
    'mounts[].source': [(s) => (s.mounts = [{ destination: '/t', type: 'bind', source: '/s' }]), 'applied'],
    'mounts[].type': [(s) => (s.mounts = [{ destination: '/t', type: 'mqueue' }]), 'applied'],
    'mounts[].options': [(s) => (s.mounts = [{ destination: '/t', type: 'tmpfs', options: ['size=1m'] }]), 'applied'],
    'process.terminal': [(s) => (s.process.terminal = true), 'applied'],
    'process.consoleSize.height': [(s) => (s.process.consoleSize = { height: 1, width: 1 }), 'accepted'],
    'process.consoleSize.width': [(s) => (s.process.consoleSize = { height: 1, width: 1 }), 'accepted'],
    'process.cwd': [(s) => (s.process.cwd = '/x'), 'applied'],
    'process.env': [(s) => (s.process.env = ['X=1']), 'applied'],
    'process.args': [(s) => (s.process.args = ['x']), 'applied'],
    'process.commandLine': [(s) => (s.process.commandLine = 'x'), /^process\.commandLine$/],
    'process.rlimits[].type': [(s) => (s.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }]), 'applied'],
    'process.apparmorProfile': [(s) => (s.process.apparmorProfile = 'unconfined'), 'applied'],
    'process.capabilities.bounding': [(s) => (s.process.capabilities = { bounding: ['CAP_KILL'] }), 'applied'],
    'process.capabilities.effective': [(s) => (s.process.capabilities = { effective: ['CAP_KILL'] }), 'applied'],
    'process.capabilities.permitted': [(s) => (s.process.capabilities = { permitted: ['CAP_KILL'] }), 'applied'],
    'process.capabilities.inheritable': [(s) => (s.process.capabilities = { inheritable: ['CAP_KILL'] }), 'applied'],
    'process.capabilities.ambient': [(s) => ((s.process.user.uid = 1), (s.process.capabilities = { ambient: ['CAP_KILL'] })), 'applied'],
    'process.noNewPrivileges': [(s) => (s.process.noNewPrivileges = true), 'applied'],
    'process.oomScoreAdj': [(s) => (s.process.oomScoreAdj = 5), 'applied'],
    'process.scheduler': [(s) => (s.process.scheduler = { policy: 'SCHED_OTHER' }), /^process\.scheduler$/],
    'process.selinuxLabel': [(s) => (s.process.selinuxLabel = 'x'), /^process\.selinuxLabel$/],
    'process.ioPriority': [(s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 1 }), /^process\.ioPriority$/],
    'process.execCPUAffinity': [(s) => (s.process.execCPUAffinity = { initial: '0' }), /^process\.execCPUAffinity$/],
    'process.user.uid': [(s) => (s.process.user.uid = 5), 'applied'],
    'process.user.gid': [(s) => (s.process.user.gid = 5), 'applied'],
    'process.user.umask': [(s) => (s.process.user.umask = 0o77), 'applied'],
    'process.user.additionalGids': [(s) => (s.process.user.additionalGids = [5]), 'applied'],
    'process.user.username': [(s) => (s.process.user.username = 'u'), /^process\.user\.username$/],
    annotations: [(s) => (s.annotations = { a: 'b' }), 'applied'],
    'linux.namespaces[].type': [(s) => s.linux.namespaces.push({ type: 'user' }), 'applied'],
    'linux.namespaces[].path': [(s) => (s.linux.namespaces[0].path = '/proc/1/ns/pid'), /^linux\.namespaces\[0\]\.path$/],
    'linux.timeOffsets': [(s) => (s.linux.timeOffsets = { monotonic: { secs: 1 } }), /^linux\.timeOffsets$/],
    'linux.devices[].type': [(s) => (s.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }]), 'applied'],
    'linux.devices[].fileMode': [(s) => (s.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600 }]), 'applied'],
    'linux.cgroupsPath': [(s) => (s.linux.cgroupsPath = '/x'), 'accepted'],
    'linux.resources.devices[].allow': [(s) => (s.linux.resources = { devices: [{ allow: true, type: 'c', major: 1, minor: 3 }] }), 'applied'],
    'linux.resources.memory.limit': [(s) => (s.linux.resources = { memory: { limit: 1 << 30 } }), 'applied'],
    'linux.resources.memory.reservation': [(s) => (s.linux.resources = { memory: { reservation: 1 << 20 } }), 'applied'],
    'linux.resources.memory.swap': [(s) => (s.linux.resources = { memory: { limit: 1 << 30, swap: 2 ** 31 } }), 'applied'],
    'linux.resources.memory.useHierarchy': [(s) => (s.linux.resources = { memory: { useHierarchy: true } }), 'accepted'],
    'linux.resources.memory.checkBeforeUpdate': [(s) => (s.linux.resources = { memory: { checkBeforeUpdate: true } }), /^linux\.resources\.memory\.checkBeforeUpdate$/],
    'linux.resources.cpu.shares': [(s) => (s.linux.resources = { cpu: { shares: 512 } }), 'applied'],
    'linux.resources.cpu.quota': [(s) => (s.linux.resources = { cpu: { quota: 50000 } }), 'applied'],
    'linux.resources.cpu.period': [(s) => (s.linux.resources = { cpu: { quota: 50000, period: 200000 } }), 'applied'],
    'linux.resources.cpu.cpus': [(s) => (s.linux.resources = { cpu: { cpus: '0' } }), 'applied'],
    'linux.resources.cpu.mems': [(s) => (s.linux.resources = { cpu: { mems: '0' } }), 'applied'],
    'linux.resources.pids.limit': [(s) => (s.linux.resources = { pids: { limit: 10 } }), 'applied'],
    'linux.resources.hugepageLimits[].pageSize': [(s) => (s.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), /^linux\.resources\.hugepageLimits$/],
    'linux.resources.blockIO.weight': [(s) => (s.linux.resources = { blockIO: { weight: 10 } }), 'applied'],
    'linux.resources.blockIO.leafWeight': [(s) => (s.linux.resources = { blockIO: { leafWeight: 10 } }), /^linux\.resources\.blockIO\./],
    'linux.resources.blockIO.weightDevice[].major': [(s) => (s.linux.resources = { blockIO: { weightDevice: [{ ...dev, weight: 10 }] } }), /^linux\.resources\.blockIO\.weightDevice$/],
    'linux.resources.unified': [(s) => (s.linux.resources = { unified: { 'memory.high': '1' } }), 'applied'],
    'linux.resources.network': [(s) => (s.linux.resources = { network: { classID: 1 } }), /^linux\.resources\.network$/],
    'linux.resources.rdma': [(s) => (s.linux.resources = { rdma: { mlx: { hcaHandles: 1 } } }), /^linux\.resources\.rdma$/],
    'linux.intelRdt': [(s) => (s.linux.intelRdt = { closID: 'x' }), /^linux\.intelRdt$/],
    'linux.sysctl': [(s) => (s.linux.sysctl = { 'kernel.shmmax': '1' }), 'applied'],
    'linux.seccomp.defaultAction': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: amd64Abis }), 'applied'],
    'linux.seccomp.defaultErrnoRet': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1, architectures: amd64Abis }), /^linux\.seccomp\.defaultErrnoRet$/],
    'linux.seccomp.flags': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'], architectures: amd64Abis }), /^linux\.seccomp\.flags\[0\]$/],
    'linux.seccomp.listenerPath': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }), /^linux\.seccomp\.listenerPath$/],
    'linux.seccomp.listenerMetadata': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }), /^linux\.seccomp\.listenerMetadata$/],
    'linux.seccomp.architectures': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] }), /^linux\.seccomp\.architectures$/],
    'linux.seccomp.syscalls[].names': [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: amd64Abis, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, args: [{ index: 1, value: 1, valueTwo: 0, op: 'SCMP_CMP_EQ' }] }] }), 'applied'],
    'linux.rootfsPropagation': [(s) => (s.linux.rootfsPropagation = 'private'), 'applied'],
    'linux.maskedPaths': [(s) => (s.linux.maskedPaths = ['/proc/kcore']), 'applied'],
    'linux.readonlyPaths': [(s) => (s.linux.readonlyPaths = ['/proc/bus']), 'applied'],
    'linux.mountLabel': [(s) => (s.linux.mountLabel = 'x'), /^linux\.mountLabel$/],
    'linux.personality': [(s) => (s.linux.personality = { domain: 'LINUX' }), /^linux\.personality$/],
    'linux.memoryPolicy': [(s) => (s.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' }), /^linux\.memoryPolicy$/],
    'linux.netDevices': [(s) => (s.linux.netDevices = { eth1: {} }), /^linux\.netDevices$/],
  };
  // Hooks run at create, start and delete (src/runtime/hooks.ts); only startContainer's go into the CT.
  for (const hook of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
    table[`hooks.${hook}[].path`] = [(s) => (s.hooks = { [hook]: [{ path: '/bin/true', args: ['true'], env: ['A=1'], timeout: 1 }] }), hook === 'startContainer' ? 'applied' : 'accepted'];
  }
  for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
    table[`linux.resources.blockIO.${k}[].major`] = [(s) => (s.linux.resources = { blockIO: { [k]: [{ ...dev, rate: 1 }] } }), 'applied'];
  }
  for (const k of ['kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller']) {
    table[`linux.resources.memory.${k}`] = [(s) => (s.linux.resources = { memory: { [k]: k === 'disableOOMKiller' ? true : 1 } }), new RegExp(`^linux\\.resources\\.memory\\.${k}$`)];
  }
  for (const k of ['burst', 'realtimeRuntime', 'realtimePeriod', 'idle']) {
    table[`linux.resources.cpu.${k}`] = [(s) => (s.linux.resources = { cpu: { [k]: 1 } }), new RegExp(`^linux\\.resources\\.cpu\\.${k}$`)];
  }
  // One setting covers the sibling fields of the same array item or mapping.
  const coveredBy = (leaf: string) =>
    table[leaf] ??
    Object.entries(table).find(([k]) => k.includes('[]') && leaf.startsWith(k.slice(0, k.lastIndexOf('[]') + 2)))?.[1] ??
    (/^(linux\.uidMappings|linux\.gidMappings)/.test(leaf) ? table['linux.namespaces[].type'] : undefined) ??
    (/^mounts\[\]\.(uid|gid)Mappings/.test(leaf) ? ([(s: any) => (s.mounts = [{ destination: '/t', type: 'bind', source: '/s', uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }]), /^mounts\[0\]\.uidMappings$/] as [(s: any) => void, Expect]) : undefined);
  const base = () => spec((s) => (s.linux = { namespaces: privateNs.map((n) => ({ ...n })) }));
  const baseline = JSON.stringify(translate(base(), ctx));
  for (const leaf of leaves) {
    const entry = coveredBy(leaf);
    if (!entry) {
      t.fail(`${leaf}: not in this test's table`);
      continue;
    }
    const [patch, expected] = entry;
    const s = base();
    s.process.user ??= { uid: 0, gid: 0 };
    patch(s);
    validateSpec(s);
    let out: string | undefined;
    let error: unknown;
    try {
      out = JSON.stringify(translate(s, ctx));
    } catch (e) {
      error = e;
    }
    if (expected instanceof RegExp) t.match((error as { field?: string })?.field, expected, `${leaf}: rejected by name`);
    else if (expected === 'applied') t.ok(out !== undefined && out !== baseline, `${leaf}: applied`, { error });
    else t.equal(out, baseline, `${leaf}: accepted without a CT change (documented in src/oci/fields.ts)`);
  }
});

t.test('annotations become lines of the CT notes; nothing in them can become a key', async (t) => {
  const { config } = translate(spec((s) => (s.annotations = { 'io.podman.annotations.autoremove': 'TRUE', 'lxc.cgroup2.devices.allow': 'a', b: 'x: y %z' })), ctx);
  t.equal(config.description, 'annotation b=x: y %z\nannotation io.podman.annotations.autoremove=TRUE\nannotation lxc.cgroup2.devices.allow=a');
  const text = writePctConfig(config);
  const back = parsePctConfig(text, 100).config;
  t.equal(back.description, config.description + '\n', 'the notes read back as written (PVE ends each # line with a newline)');
  t.notOk(back.lxc.some(([k]) => k === 'lxc.cgroup2.devices.allow'), 'an lxc.* annotation key stays a note');
  t.throws(() => translate(spec((s) => (s.annotations = { a: 'x\nlxc.cap.keep: sys_admin' })), ctx), /^annotations\["a"\]: the value contains a control character$/);
  t.throws(() => translate(spec((s) => (s.annotations = { 'a\nb': 'x' })), ctx), /^annotations\["a\?b"\]: an annotation key is/);
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(300)]));
  const lines = translate(spec((s) => (s.annotations = many)), ctx).config.description!.split('\n');
  t.equal(lines.length, 33);
  t.equal(lines[0], `annotation k00=${'v'.repeat(200)}…`);
  t.equal(lines[32], '(8 more annotations: see pxoci state)');
});

t.test("a CRI pod's CTs: the first line of the notes names the pod and its sandbox", async (t) => {
  const sandboxId = '8c9429c3419a41c2c7a901e286a2745a0b314a9dfabf8b22a687d9d6ad6b6fc7';
  // What containerd 1.6.20's CRI plugin puts on a sandbox and on a container of the pod (seen in test/engine-cri.test.ts).
  const pod = { 'io.kubernetes.cri.sandbox-id': sandboxId, 'io.kubernetes.cri.sandbox-name': 'web', 'io.kubernetes.cri.sandbox-namespace': 'shop', 'io.kubernetes.cri.sandbox-uid': 'u1' };
  const notes = (annotations: Record<string, string>) => translate(spec((s) => (s.annotations = annotations)), ctx).config.description!.split('\n');
  const sandbox = notes({ ...pod, 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/x' });
  t.equal(sandbox[0], `Kubernetes pod shop/web: its sandbox ${sandboxId}`);
  t.equal(sandbox.length, 7, 'then every annotation, as for any container');
  const container = notes({ ...pod, 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'server', 'io.kubernetes.cri.image-name': 'busybox' });
  t.equal(container[0], `Kubernetes pod shop/web: container server of sandbox ${sandboxId}`);
  t.equal(notes({ ...pod, 'io.kubernetes.cri.container-type': 'other' })[0], 'annotation io.kubernetes.cri.container-type=other', 'no pod line for an unknown container type');
  t.equal(notes({ 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': sandboxId })[0], 'annotation io.kubernetes.cri.container-type=sandbox', 'nor without the pod name');
  t.equal(translate(spec(), ctx).config.description, undefined, 'no notes for a container without annotations');
  t.equal(notes({ ...pod, 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-name': 'w'.repeat(300) })[0], `Kubernetes pod shop/${'w'.repeat(200)}…: its sandbox ${sandboxId}`, 'values cut as in the annotation lines');
  t.throws(() => notes({ ...pod, 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-name': 'web\npxoci owner 00' }), /^annotations\["io.kubernetes.cri.sandbox-name"\]: the value contains a control character$/, 'a value that would add a line is refused');
});
