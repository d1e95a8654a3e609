// The simulated PVE node: each pct command against real LXC containers, with PVE's texts and exit codes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePaths } from '../src/pve/paths.js';
import { adaptToThisHost } from '../src/pvesim/host-adapter.js';
import { updateLxcConfig, type RenderFacts } from '../src/pvesim/update-lxc-config.js';
import { busyboxRootfs, startSimNode, type SimNode } from './helpers/env.js';

const node: SimNode = startSimNode('pvesim');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-pvesim-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function pct(...args: string[]) {
  return spawnSync(join(node.root, 'usr/sbin/pct'), args, { env: node.env, encoding: 'utf8', timeout: 60_000 });
}
const lastLine = (r: { stderr: string }) => r.stderr.trim().split('\n').pop();
const conf = (vmid: number) => join(node.root, 'etc/pve/lxc', `${vmid}.conf`);

t.test('pvesim env lays out a node and is idempotent', async (t) => {
  for (const p of ['etc/pve/nodes/pvesim/lxc', 'etc/pve/.vmlist', 'run/lock/lxc', 'var/lib/lxc', 'usr/sbin/pct', 'usr/bin/pvesh']) {
    t.ok(existsSync(join(node.root, p)), p);
  }
  const again = spawnSync(process.execPath, [join(process.cwd(), 'dist/pvesim.js'), 'env', '--root', node.root], { encoding: 'utf8' });
  t.equal(again.status, 0);
  t.match(again.stdout, /^export PXOCI_PVE_ROOT='/m);
  const nextid = spawnSync(join(node.root, 'usr/bin/pvesh'), ['get', '/cluster/nextid'], { encoding: 'utf8', env: {} });
  t.equal(nextid.stdout, '100\n', 'pvesh works with an empty environment');
});

t.test('a hand-written CT: start, status with pid, exec exit code, stop, destroy', async (t) => {
  const data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'hello'), 'from the host\n');
  writeFileSync(
    conf(100),
    ['arch: amd64', 'ostype: unmanaged', `rootfs: ${busyboxRootfs()}`, 'hostname: hand', 'memory: 128', `mp0: ${data},mp=/data,ro=1`, 'lxc.init.cmd: /bin/sleep 1000', ''].join('\n'),
  );
  t.equal(pct('status', '100').stdout, 'status: stopped\n');
  const start = pct('start', '100');
  t.equal(start.status, 0, start.stderr);
  t.match(start.stderr, /WARN: pvesim: .*not enforced/, 'says loudly what it cannot enforce');
  const verbose = pct('status', '100', '--verbose');
  t.match(verbose.stdout, /^status: running$/m);
  const pid = /^pid: (\d+)$/m.exec(verbose.stdout)?.[1];
  const { lxcBin, lxcPath } = nodePaths(node.root);
  const info = spawnSync(lxcBin('lxc-info'), ['-P', lxcPath, '-n', '100', '-p'], { encoding: 'utf8' }).stdout;
  t.equal(`PID:            ${pid}\n`, info, 'pid is the init host pid lxc-info reports');
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^\/bin\/sleep/);
  const exec = pct('exec', '100', '--', 'sh', '-c', 'cat /data/hello; hostname; touch /data/x 2>/dev/null || echo ro; exit 7');
  t.equal(exec.status, 7);
  t.equal(exec.stdout, 'from the host\nhand\nro\n');
  t.match(pct('list').stdout, /^VMID {7}Status {5}Lock {9}Name {16}\n100 {8}running {17}hand/);
  t.match(verbose.stdout, /^name: hand\nnetin: 0\nnetout: 0\npid: \d+\nstatus: running\nswap: 0\ntype: lxc\nuptime: \d+\nvmid: 100\n$/m, 'vmstatus fields, sorted');
  const lxcConf = readFileSync(join(node.root, 'var/lib/lxc/100/config'), 'utf8');
  t.match(lxcConf, /^lxc\.cgroup\.memory\.limit_in_bytes = 134217728$/m, 'memory.max as its v1 equivalent');
  t.match(lxcConf, /^lxc\.init\.cmd = \/bin\/sleep 1000\nlxc\.hook\.post-stop = /m, 'raw keys last, in file order');
  t.match(start.stderr, /WARN: pvesim: lxc\.cgroup2\.memory\.high = 133169152 not enforced on this host/);
  const again = pct('start', '100');
  t.equal(again.status, 255);
  t.equal(again.stderr.trim().split('\n').pop(), 'CT 100 already running');
  const destroyRunning = pct('destroy', '100');
  t.equal(destroyRunning.status, 255);
  t.match(destroyRunning.stderr, /^unable to destroy CT 100 - container is running$/m);
  t.equal(pct('stop', '100').status, 0);
  t.equal(pct('status', '100').stdout, 'status: stopped\n');
  const notRunning = pct('stop', '100');
  t.equal(notRunning.status, 255);
  t.match(notRunning.stderr, /^CT 100 not running$/m);
  t.equal(pct('exec', '100', '--', 'true').stderr.trim(), "container '100' not running!");
  t.equal(pct('destroy', '100').status, 0);
  t.notOk(existsSync(conf(100)));
  t.ok(existsSync(join(data, 'hello')), 'bind-mounted data survives destroy');
  t.ok(existsSync(join(busyboxRootfs(), 'bin/busybox')), 'the bind rootfs survives destroy');
  t.equal(pct('list').stdout, '');
});

t.test('config, set, locks, digests and PVE error texts', async (t) => {
  writeFileSync(conf(101), `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\nlock: backup\nbogus: 1\nlxc.rootfs.path: /x\n`);
  const c = pct('config', '101');
  t.equal(c.stdout, `arch: amd64\nbogus: 1\nlock: backup\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\n`, 'unknown keys are kept, as PVE does');
  t.match(c.stderr, /vm 101 - unable to parse value of 'bogus' - unknown setting 'bogus'/);
  t.match(c.stderr, /vm 101 - lxc\.rootfs\.path: lxc\.rootfs\.path is auto generated from rootfs/);
  const locked = pct('start', '101');
  t.equal(locked.status, 255);
  t.match(locked.stderr, /^CT is locked \(backup\)$/m);
  const bad = pct('set', '101', '--memory', '8');
  t.equal(bad.status, 255);
  t.equal(bad.stderr, '400 Parameter verification failed.\nmemory: value must have a minimum value of 16\npct set <vmid> [OPTIONS]\n');
  t.equal(pct('set', '101', '--memory', '64', '--skiplock').status, 0);
  t.equal(pct('unlock', '101').status, 0);
  const digest = spawnSync('sha1sum', [conf(101)], { encoding: 'utf8' }).stdout.split(' ')[0]!;
  t.equal(pct('set', '101', '--cores', '2', '--digest', digest).status, 0);
  const stale = pct('set', '101', '--cores', '1', '--digest', digest);
  t.equal(stale.status, 255);
  t.match(stale.stderr, /detected modified configuration - file changed by other user\? Try again\./);
  t.equal(pct('set', '101', '--delete', 'cores').status, 0);
  t.notMatch(readFileSync(conf(101), 'utf8'), /cores/);
  t.notMatch(readFileSync(conf(101), 'utf8'), /lxc\.rootfs\.path/, 'dropped raw keys vanish at the next write');
  const unknown = pct('set', '101', '--foo', '1');
  t.equal(unknown.status, 255);
  t.equal(unknown.stderr, '400 Parameter verification failed.\nfoo: property is not defined in schema and the schema does not allow additional properties\npct set <vmid> [OPTIONS]\n');
  t.equal(lastLine(pct('set', '101', '--delete', 'memory')), "unable to delete required option 'memory'");
  t.equal(lastLine(pct('set', '101', '--unprivileged', '1')), "unable to modify read-only option: 'unprivileged'");
  t.equal(pct('set', '101', '--tags', 'B;a', '--onboot', 'yes', '--description', 'x: y').status, 0);
  t.match(readFileSync(conf(101), 'utf8'), /^#x%3A y\n(.*\n)*onboot: 1\n(.*\n)*tags: a;b$/m);
  t.match(pct('config', '101').stdout, /^description: x%3A y%0A$/m);
  t.equal(pct('set', '101', '--lock', 'backup').status, 0);
  t.equal(lastLine(pct('destroy', '101')), 'CT is locked (backup)');
  t.equal(pct('unlock', '101').status, 0);
  const missing = pct('config', '999');
  t.equal(missing.status, 255);
  t.equal(missing.stderr, "Configuration file 'nodes/pvesim/lxc/999.conf' does not exist\n");
  t.equal(pct('status', '12').stderr.split('\n')[1], 'vmid: invalid format - value does not look like a valid VM ID');
  t.equal(pct('stop', '999').stderr.trim(), 'CT 999 not running', 'stop checks running before the config');
  t.equal(pct('start', '999').stderr.trim(), "Configuration file 'nodes/pvesim/lxc/999.conf' does not exist");
  t.equal(pct('destroy', '101').status, 0);
});

t.test('pct create from a tar template, start, destroy', async (t) => {
  const tar = join(work, 'busybox.tar');
  spawnSync('tar', ['-C', busyboxRootfs(), '-cf', tar, '.']);
  const noOs = pct('create', '102', tar);
  t.equal(noOs.status, 255);
  t.equal(noOs.stderr.trim(), 'unable to create CT 102 - unable to detect OS distribution', 'busybox is no known distribution');
  t.notOk(existsSync(conf(102)), 'a failed create leaves nothing behind');
  const c = pct('create', '102', tar, '--hostname', 'tmpl', '--ostype', 'unmanaged', '--rootfs', 'local:8');
  t.equal(c.status, 0, c.stderr);
  t.match(readFileSync(conf(102), 'utf8'), /^rootfs: local:102\/vm-102-disk-0,size=8G$/m);
  t.match(readFileSync(conf(102), 'utf8'), /^unprivileged: 1$/m, 'unprivileged by default');
  t.equal(pct('create', '102', tar).stderr.trim(), "CT 102 already exists on node 'pvesim'");
  writeFileSync(conf(102), readFileSync(conf(102), 'utf8') + 'lxc.init.cmd: /bin/sleep 1000\n');
  const s = pct('start', '102');
  t.equal(s.status, 0, s.stderr);
  t.equal(pct('exec', '102', '--', 'hostname').stdout, 'tmpl\n');
  t.equal(pct('exec', '102', '--', 'sh', '-c', 'stat -c %u /bin/busybox; cat /proc/self/uid_map').stdout.replace(/\s+/g, ' ').trim(), '0 0 100000 65536', 'an unprivileged CT: its files are its root\'s');
  t.equal(pct('set', '102', '--hostname', 'renamed', '--tty', '3').status, 0);
  const pending = readFileSync(conf(102), 'utf8');
  t.match(pending, /^hostname: renamed$/m, 'hostname is applied at once');
  t.match(pending, /\[pve:pending\]\ntty: 3\n/, 'tty waits for the next start');
  t.match(pct('config', '102').stdout, /^tty: 3$/m, 'config shows pending values');
  t.notMatch(pct('config', '102', '--current').stdout, /^tty:/m, '--current does not');
  t.equal(pct('exec', '102', '--').stderr.trim(), 'missing command');
  const sd = pct('shutdown', '102', '--timeout', '1', '--forceStop', '1');
  t.equal(sd.status, 0, sd.stderr);
  t.equal(pct('status', '102').stdout, 'status: stopped\n');
  t.equal(pct('start', '102').status, 0);
  t.notMatch(readFileSync(conf(102), 'utf8'), /pve:pending/, 'start applies pending changes');
  t.match(readFileSync(join(node.root, 'var/lib/lxc/102/config'), 'utf8'), /^lxc\.tty\.max = 3$/m);
  t.equal(pct('stop', '102').status, 0);
  t.equal(pct('destroy', '102').status, 0);
  t.notOk(existsSync(join(node.root, 'var/lib/vz/images/102')), 'the volume is gone with the CT');
});

t.test('a CT that cannot start fails with PVE text and exit 255, leaving nothing mounted', async (t) => {
  writeFileSync(conf(103), `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\nlxc.init.cmd: /does/not/exist\n`);
  const s = pct('start', '103');
  t.equal(s.status, 255);
  t.match(s.stderr, /^startup for container '103' failed$/m);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(node.root));
  t.same(mounts, []);
  t.equal(pct('destroy', '103').status, 0);
});

// What PVE renders for lines this host cannot take (AppArmor, syscalld, bridges) never reaches LXC here,
// so only these checks keep that rendering and its rewrite honest.
t.test('update_lxc_config renders what PVE renders; the host adapter rewrites it and says so', async (t) => {
  const facts: RenderFacts = {
    lxcPath: '/var/lib/lxc',
    hasLxcConfigFile: (name) => name === 'debian.common.conf',
    readLxcConfigFile: () => '2\ndenylist\n',
    device: () => ({ kind: 'c', major: 1, minor: 3 }),
    kernelVersion: [6, 8],
    pathExists: () => false,
    bridgeMtu: () => 1500,
    ctCpus: () => [0, 1, 2, 3],
    random: () => 0,
  };
  const options = {
    arch: 'amd64',
    ostype: 'debian',
    rootfs: 'local:100/vm-100-disk-0,size=8G',
    unprivileged: '1',
    features: 'nesting=1,mknod=1',
    dev0: '/dev/null',
    net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01',
    memory: '1024',
    cores: '2',
  };
  const conf = { options, lxc: [['lxc.cgroup2.memory.high', 'max']] as Array<[string, string]>, env: ['A=1'] };
  const rendered = updateLxcConfig(conf, 100, facts);
  t.same(
    rendered.steps.flatMap((s) => s.lines.map(([k, v]) => `${k} = ${v}`)),
    [
      'lxc.cgroup.relative = 0',
      'lxc.cgroup.dir.monitor = lxc.monitor/100',
      'lxc.cgroup.dir.container = lxc/100',
      'lxc.cgroup.dir.container.inner = ns',
      'lxc.arch = amd64',
      'lxc.include = /usr/share/lxc/config/debian.common.conf',
      'lxc.include = /usr/share/lxc/config/userns.conf',
      'lxc.seccomp.notify.proxy = unix:/run/pve-lxc-syscalld/socket',
      'lxc.seccomp.notify.cookie = 100',
      'lxc.seccomp.profile = /var/lib/lxc/100/rules.seccomp',
      'lxc.apparmor.profile = generated',
      'lxc.apparmor.raw = allow mqueue,',
      'lxc.apparmor.allow_nesting = 1',
      'lxc.apparmor.raw = allow userns,',
      'lxc.mount.auto = sys:mixed',
      'lxc.cgroup2.devices.allow = c 1:3 rw',
      'lxc.monitor.unshare = 1',
      'lxc.idmap = u 0 100000 65536',
      'lxc.idmap = g 0 100000 65536',
      'lxc.tty.max = 2',
      'lxc.environment = TERM=linux',
      'lxc.uts.name = CT100',
      'lxc.cgroup2.memory.max = 1073741824',
      'lxc.cgroup2.memory.high = 1065353216',
      'lxc.cgroup2.memory.swap.max = 0',
      'lxc.rootfs.path = /var/lib/lxc/100/rootfs',
      'lxc.net.0.type = veth',
      'lxc.net.0.veth.pair = veth100i0',
      'lxc.net.0.hwaddr = BC:24:11:00:00:01',
      'lxc.net.0.name = eth0',
      'lxc.net.0.mtu = 1500',
      'lxc.net.0.script.up = /usr/share/lxc/lxcnetaddbr',
      'lxc.environment.runtime = A=1',
      'lxc.cgroup2.memory.high = max',
      'lxc.cgroup2.cpuset.cpus = 2-3',
    ],
    "PVE 9's lines in its order, raw keys after its own",
  );
  t.match(rendered.files['rules.seccomp'], /^mknod notify \[1,8192,/m, 'mknod goes to pve-lxc-syscalld');
  t.throws(() => updateLxcConfig(conf, 100, { ...facts, bridgeMtu: () => undefined }), { message: "bridge 'vmbr0' does not exist" });

  const adapted = adaptToThisHost(rendered, conf, 100, '/', '/hook');
  const text = adapted.lines.join('\n') + '\n';
  t.notMatch(text, /apparmor\.(raw|allow_nesting)|= generated|seccomp\.notify|cgroup2\.|environment\.runtime/);
  t.match(text, /^lxc\.net\.0\.type = veth\nlxc\.net\.0\.veth\.pair = veth100i0\n(.*\n)*lxc\.net\.0\.script\.up = \/var\/lib\/lxc\/100\/pvesim-lxcnetaddbr$/m, "net0 kept, with pvesim's lxcnetaddbr");
  t.match(adapted.files['pvesim-lxcnetaddbr'], /^  veth100i0\) .*master .*vmbr0/m, 'the up-script plugs veth100i0 into vmbr0');
  t.match(text, /^lxc\.apparmor\.profile = unconfined$/m);
  t.match(text, /^lxc\.cgroup\.devices\.allow = c 1:3 rw\nlxc\.mount\.entry = \/dev\/null dev\/null none bind,create=file 0 0$/m);
  t.match(text, /^lxc\.net\.0\.script\.up = .*\nlxc\.environment = A=1$/m);
  t.match(text, /lxc\.cgroup\.cpuset\.cpus = 2-3\nlxc\.hook\.post-stop = \/hook\n$/);
  t.notMatch(adapted.files['rules.seccomp'], /mknod/);
  for (const said of [/userns\.conf/, /mknod=1/, /AppArmor is not enforced/, /^dev0: /, /^net0: /, /^env: /, /hooks/, /memory\.high = max not enforced/, /v1 equivalents/]) {
    t.ok(adapted.warnings.some((w) => said.test(w)), `announced: ${said}`);
  }
});
