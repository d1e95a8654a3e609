// The simulated PVE node: each pct command against real LXC containers, with PVE's texts and exit codes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePaths } from '../src/pve/paths.js';
import { pveVersions } from '../src/pve/node-facts.js';
import { adaptToThisHost } from '../src/pvesim/host-adapter.js';
import { updateLxcConfig, type RenderFacts } from '../src/pvesim/update-lxc-config.js';
import { busyboxRootfs, startSimNode, type SimNode } from './helpers/env.js';

// This file states PVE 9's rules unless a test says otherwise: its node does not follow PXOCI_TEST_PVE.
const node: SimNode = startSimNode('pvesim', { pve: 9 });
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-pvesim-'));
// Unprivileged CTs (uid 100000) reach their rootfs copies below it.
chmodSync(work, 0o755);
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function pct(...args: string[]) {
  return pctOn(node, ...args);
}
function pctOn(n: SimNode, ...args: string[]) {
  return spawnSync(join(n.root, 'usr/sbin/pct'), args, { env: n.env, encoding: 'utf8', timeout: 60_000 });
}
const lastLine = (r: { stderr: string }) => r.stderr.trim().split('\n').pop();
const conf = (vmid: number) => join(node.root, 'etc/pve/lxc', `${vmid}.conf`);
/** What LXC's debug log of the last start says a pre-start hook printed (PVE's pct shows only LXC's lines). */
const hookOutput = (vmid: number) =>
  readFileSync(join(node.root, 'run/pve', `ct-${vmid}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.includes('produced output: '))
    .map((l) => l.slice(l.indexOf('produced output: ') + 'produced output: '.length))
    .join('\n') + '\n';
/** A rootfs of its own (mount points get made in it), reachable by an unprivileged CT. */
function rootfsCopy(name: string): string {
  const dir = join(work, name);
  cpSync(busyboxRootfs(), dir, { recursive: true, verbatimSymlinks: true });
  chmodSync(dir, 0o755);
  return dir;
}
/** Waits for a CT's monitor to have ended (its post-stop hook done): the config it rewrote is final. */
async function whenStopped(n: SimNode, vmid: number, check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (pctOn(n, 'status', String(vmid)).stdout === 'status: stopped\n' && check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

t.test('pvesim env lays out a node and is idempotent', async (t) => {
  for (const p of ['etc/pve/nodes/pvesim/lxc', 'etc/pve/.vmlist', 'run/lock/lxc', 'var/lib/lxc', 'usr/sbin/pct', 'usr/bin/pvesh', 'usr/share/lxc/hooks/pvesim-prestart-hook', 'var/lib/dpkg/status']) {
    t.ok(existsSync(join(node.root, p)), p);
  }
  t.same(pveVersions(nodePaths(node.root)), { release: 9, manager: '9.1.19', container: '6.1.10' }, 'the versions a PVE 9 node has, where a real node keeps them');
  const again = spawnSync(process.execPath, [join(process.cwd(), 'dist/pvesim.js'), 'env', '--root', node.root], { encoding: 'utf8' });
  t.equal(again.status, 0);
  t.match(again.stdout, /^export PXOCI_PVE_ROOT='/m);
  const dpkg = spawnSync('dpkg-query', [`--admindir=${join(node.root, 'var/lib/dpkg')}`, '-W', '-f=${Version}', 'pve-manager'], { encoding: 'utf8' });
  t.equal(dpkg.stdout, '9.1.19', "dpkg-query reads the node's record as it reads a real node's");
  t.equal(dpkg.stderr, '');
  const bad = spawnSync(process.execPath, [join(process.cwd(), 'dist/pvesim.js'), 'env', '--root', node.root, '--pve', '7'], { encoding: 'utf8' });
  t.equal(bad.status, 2, 'only PVE 8 and 9 are simulated');
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
  t.match(lxcConf, /^lxc\.init\.cmd = \/bin\/sleep 1000\n$/m, 'raw keys last, in file order');
  t.same(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(node.root)), [], "the volumes are mounted in the CT's monitor, not in the host's namespace");
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

t.test("PVE's devN bug: a privileged CT with dev0 fails pct start, an unprivileged one gets the node PVE makes", async (t) => {
  writeFileSync(conf(110), `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\ndev0: /dev/null\nlxc.init.cmd: /bin/sleep 1000\n`);
  const privileged = pct('start', '110');
  t.equal(privileged.status, 255);
  t.equal(lastLine(privileged), 'Device /dev/null does not exist', "PVE 8.1 … 9.x: a stale ENOENT in get_device_mode_and_rdev");
  t.equal(pct('status', '110').stdout, 'status: stopped\n');
  t.equal(pct('destroy', '110').status, 0);

  writeFileSync(conf(111), `arch: amd64\nostype: unmanaged\nunprivileged: 1\nrootfs: ${rootfsCopy('dev-unpriv')}\ndev0: /dev/null,mode=0640,uid=5,gid=6\nlxc.init.cmd: /bin/sleep 1000\n`);
  const unprivileged = pct('start', '111');
  t.equal(unprivileged.status, 0, unprivileged.stderr);
  t.equal(pct('exec', '111', '--', 'stat', '-c', '%a %u %g %t:%T', '/dev/null').stdout, '640 5 6 1:3\n', "the node's mode and owner as devN sets them");
  t.equal(pct('stop', '111').status, 0);
  t.equal(pct('destroy', '111').status, 0);

  // With its own seccomp profile an unprivileged CT skips the file writes that clear PVE's errno.
  writeFileSync(conf(113), `arch: amd64\nostype: unmanaged\nunprivileged: 1\nrootfs: ${rootfsCopy('dev-seccomp')}\ndev0: /dev/null\nlxc.seccomp.profile: /usr/share/lxc/config/common.seccomp\nlxc.init.cmd: /bin/sleep 1000\n`);
  const ownSeccomp = pct('start', '113');
  t.equal(ownSeccomp.status, 255);
  t.equal(lastLine(ownSeccomp), 'Device /dev/null does not exist', 'an unprivileged CT with a raw lxc.seccomp.profile fails as a privileged one');
  t.equal(pct('destroy', '113').status, 0);

  const notDev = pct('set', '112', '--dev0', '/tmp/x');
  t.equal(notDev.status, 255);
  t.match(notDev.stderr, /^dev0: invalid format - format error\ndev0\.path: invalid format - \/tmp\/x is not a valid device path$/m, 'devN paths start with /dev/');
});

t.test("symlinks in a bind path fail PVE's pre-start hook: rootfs and mpN sources", async (t) => {
  const real = rootfsCopy('symlinked-real');
  const link = join(work, 'symlinked-link');
  symlinkSync(real, link);
  writeFileSync(conf(113), `arch: amd64\nostype: unmanaged\nrootfs: ${link}\nlxc.init.cmd: /bin/sleep 1000\n`);
  const viaLink = pct('start', '113');
  t.equal(viaLink.status, 255);
  t.match(viaLink.stderr, /Failed to run lxc\.hook\.pre-start for container "113"/, "LXC's lines, as pct shows them on PVE");
  t.equal(lastLine(viaLink), "startup for container '113' failed");
  t.equal(hookOutput(113), `symlink encountered at: /${link}\n`, 'the hook walked the path without following it');
  t.equal(pct('status', '113').stdout, 'status: stopped\n');

  const data = join(work, 'symlinked-data');
  mkdirSync(join(data, 'sub'), { recursive: true });
  symlinkSync(join(data, 'sub'), join(data, 'link'));
  writeFileSync(conf(113), `arch: amd64\nostype: unmanaged\nrootfs: ${real}\nmp0: ${data}/link,mp=/data\nlxc.init.cmd: /bin/sleep 1000\n`);
  t.equal(pct('start', '113').status, 255);
  t.equal(hookOutput(113), `symlink encountered at: /${data}/link\n`);
  writeFileSync(join(data, 'file'), '');
  writeFileSync(conf(113), `arch: amd64\nostype: unmanaged\nrootfs: ${real}\nmp0: ${data}/file,mp=/data\nlxc.init.cmd: /bin/sleep 1000\n`);
  t.equal(pct('start', '113').status, 255);
  t.equal(hookOutput(113), `directory '${data}/file' does not exist\n`, 'an mpN binds a directory only');
  writeFileSync(conf(113), `arch: amd64\nostype: unmanaged\nrootfs: ${real}\nmp0: ${data}/sub,mp=/data\nlxc.init.cmd: /bin/sleep 1000\n`);
  const plain = pct('start', '113');
  t.equal(plain.status, 0, plain.stderr);
  t.equal(pct('stop', '113').status, 0);
  t.equal(pct('destroy', '113').status, 0);
});

t.test('mount points: key order (a later mount hides an earlier one), made with their parents, owned by the CT root', async (t) => {
  const outer = join(work, 'order-outer');
  const inner = join(work, 'order-inner');
  mkdirSync(outer);
  mkdirSync(inner);
  writeFileSync(join(inner, 'from-inner'), '');
  writeFileSync(join(outer, 'from-outer'), '');
  const rootfs = rootfsCopy('order-rootfs');
  writeFileSync(conf(114), `arch: amd64\nostype: unmanaged\nunprivileged: 1\nrootfs: ${rootfs}\nmp0: ${inner},mp=/mnt/x/y\nmp1: ${outer},mp=/mnt/x\nlxc.init.cmd: /bin/sleep 1000\n`);
  const s = pct('start', '114');
  t.equal(s.status, 0, s.stderr);
  t.equal(pct('exec', '114', '--', 'ls', '/mnt/x').stdout, 'from-outer\n', 'mp1 (/mnt/x), mounted after mp0 (/mnt/x/y), hides it, as runc would');
  t.equal(pct('exec', '114', '--', 'test', '-e', '/mnt/x/y').status, 1);
  for (const dir of [join(rootfs, 'mnt'), join(rootfs, 'mnt/x'), join(rootfs, 'mnt/x/y')]) {
    const st = statSync(dir);
    t.same([st.uid, st.gid, st.mode & 0o7777], [100000, 100000, 0o755], `${dir}: made by the hook for the CT's root`);
  }
  t.equal(pct('stop', '114').status, 0);
  t.equal(pct('destroy', '114').status, 0);

  const roRootfs = rootfsCopy('order-ro');
  writeFileSync(conf(115), `arch: amd64\nostype: unmanaged\nrootfs: ${roRootfs},ro=1\nmp0: ${inner},mp=/newdir\nlxc.init.cmd: /bin/sleep 1000\n`);
  t.equal(pct('start', '115').status, 255, 'a read-only rootfs cannot take a new mount point');
  t.equal(hookOutput(115), 'failed to create path: //./newdir: No such file or directory\n');
  t.notOk(existsSync(join(roRootfs, 'newdir')));
  t.equal(pct('destroy', '115').status, 0);
});

t.test('the post-stop hook rewrites the config at every stop: pending applied, a key PVE does not know dropped', async (t) => {
  writeFileSync(conf(116), `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\nlxc.init.cmd: /bin/sleep 1000\n`);
  t.equal(pct('start', '116').status, 0);
  writeFileSync(conf(116), readFileSync(conf(116), 'utf8') + 'lxc.bogus.key: 1\n');
  t.equal(pct('set', '116', '--tty', '4').status, 0);
  t.match(readFileSync(conf(116), 'utf8'), /\[pve:pending\]\ntty: 4/);
  t.equal(pct('stop', '116').status, 0);
  t.ok(await whenStopped(node, 116, () => !readFileSync(conf(116), 'utf8').includes('lxc.bogus.key')), 'the unknown raw key is gone from the file');
  t.notMatch(readFileSync(conf(116), 'utf8'), /pve:pending/);
  t.match(readFileSync(conf(116), 'utf8'), /^tty: 4$/m);

  // A CT whose init ends by itself stops without pct: the hook still runs.
  writeFileSync(conf(116), `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\nlxc.init.cmd: /bin/sleep 2\n`);
  t.equal(pct('start', '116').status, 0);
  writeFileSync(conf(116), readFileSync(conf(116), 'utf8') + 'lxc.other.bogus: 1\n');
  t.ok(await whenStopped(node, 116, () => !readFileSync(conf(116), 'utf8').includes('lxc.other.bogus')), 'rewritten when the CT ended on its own');
  t.equal(pct('destroy', '116').status, 0);
});

t.test('VMIDs are shared with VMs; pvesh nextid keeps to datacenter.cfg next-id', async (t) => {
  const vmConf = join(node.root, 'etc/pve/nodes/pvesim/qemu-server/100.conf');
  writeFileSync(vmConf, 'memory: 512\n');
  const pvesh = () => spawnSync(join(node.root, 'usr/bin/pvesh'), ['get', '/cluster/nextid'], { encoding: 'utf8', env: {} });
  t.equal(pvesh().stdout, '101\n', 'a VM holds 100');
  const tar = join(work, 'vmid.tar');
  spawnSync('tar', ['-C', busyboxRootfs(), '-cf', tar, '.']);
  const taken = pct('create', '100', tar, '--ostype', 'unmanaged');
  t.equal(taken.status, 255);
  t.equal(taken.stderr.trim(), "VM 100 already exists on node 'pvesim'");
  t.notOk(existsSync(conf(100)));
  t.equal(pct('set', '117', '--memory', '64').status, 255, 'no CT config was made');
  writeFileSync(join(node.root, 'etc/pve/datacenter.cfg'), 'keyboard: en-us\nnext-id: lower=200,upper=202\n');
  t.equal(pvesh().stdout, '200\n');
  writeFileSync(join(node.root, 'etc/pve/nodes/pvesim/qemu-server/200.conf'), '');
  writeFileSync(conf(201), `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\n`);
  const full = pvesh();
  t.equal(full.status, 255);
  t.equal(full.stderr, 'unable to get any free VMID in range [200, 202]\n');
  t.equal(pct('destroy', '201').status, 0);
  const vmlist = JSON.parse(readFileSync(join(node.root, 'etc/pve/.vmlist'), 'utf8'));
  t.same(vmlist.ids['100'], { node: 'pvesim', type: 'qemu', version: 1 }, '.vmlist lists the VMs too');
  rmSync(join(node.root, 'etc/pve/datacenter.cfg'));
  rmSync(vmConf);
  rmSync(join(node.root, 'etc/pve/nodes/pvesim/qemu-server/200.conf'));
});

t.test('a PVE 8 node: pvesim env --pve 8, remembered; PVE 8.4 does not know what PVE 9 added', async (t) => {
  const node8 = startSimNode('pvesim8', { pve: 8 });
  t.teardown(() => node8.down());
  t.same(pveVersions(nodePaths(node8.root)), { release: 8, manager: '8.4.1', container: '5.2.6' });
  spawnSync(process.execPath, [join(process.cwd(), 'dist/pvesim.js'), 'env', '--root', node8.root], { encoding: 'utf8' });
  t.equal(pveVersions(nodePaths(node8.root))?.release, 8, 'env without --pve keeps the release');
  const conf8 = join(node8.root, 'etc/pve/lxc/100.conf');
  writeFileSync(
    conf8,
    `arch: amd64\nostype: unmanaged\nrootfs: ${busyboxRootfs()}\nentrypoint: /bin/sleep 1000\nlxc.init.cmd: /bin/sleep 1000\nlxc.init.cwd: /tmp\nlxc.environment.runtime: A=1\n`,
  );
  const c = pctOn(node8, 'config', '100');
  t.equal(
    c.stderr,
    "vm 100 - unable to parse value of 'entrypoint' - unknown setting 'entrypoint'\nvm 100 - unable to parse config: lxc.init.cwd: /tmp\nvm 100 - unable to parse config: lxc.environment.runtime: A=1\n",
  );
  t.notMatch(c.stdout, /lxc\.init\.cwd|environment/);
  const set = pctOn(node8, 'set', '100', '--entrypoint', '/bin/sh');
  t.equal(set.status, 255);
  t.match(set.stderr, /^entrypoint: property is not defined in schema and the schema does not allow additional properties$/m);
  const s = pctOn(node8, 'start', '100');
  t.equal(s.status, 0, s.stderr);
  const lxcConf = readFileSync(join(node8.root, 'var/lib/lxc/100/config'), 'utf8');
  t.notMatch(lxcConf, /dev\/shm|lxc\.environment = A=1/, 'no entrypoint, no env on PVE 8');
  t.equal(pctOn(node8, 'stop', '100').status, 0);
  t.ok(await whenStopped(node8, 100, () => !readFileSync(conf8, 'utf8').includes('lxc.init.cwd')), 'the post-stop rewrite drops what PVE 8 cannot parse');
  t.match(readFileSync(conf8, 'utf8'), /^entrypoint: \/bin\/sleep 1000$/m, 'an unknown option stays, as PVE keeps it');
  t.equal(pctOn(node8, 'destroy', '100').status, 0);
});

// What PVE renders for lines this host cannot take (AppArmor, syscalld, bridges) never reaches LXC here,
// so only these checks keep that rendering and its rewrite honest.
t.test('update_lxc_config renders what PVE renders; the host adapter rewrites it and says so', async (t) => {
  const facts: RenderFacts = {
    pve: 9,
    firstStart: false,
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

  const adapted = adaptToThisHost(rendered, conf, 100, '/', { preStart: '/pre', postStop: '/post' }, 'hybrid');
  const text = adapted.lines.join('\n') + '\n';
  t.notMatch(text, /apparmor\.(raw|allow_nesting)|= generated|seccomp\.notify|veth|cgroup2\.|environment\.runtime/);
  t.match(text, /^lxc\.apparmor\.profile = unconfined$/m);
  t.match(text, /^lxc\.cgroup\.devices\.allow = c 1:3 rw\nlxc\.mount\.entry = \/var\/lib\/lxc\/100\/passthrough\/dev\/null dev\/null none bind,create=file 0 0$/m);
  t.match(text, /^lxc\.net\.0\.type = empty\nlxc\.environment = A=1$/m);
  t.match(text, /lxc\.cgroup\.cpuset\.cpus = 2-3\n$/);
  t.match(text, /^lxc\.include = \/usr\/share\/lxc\/config\/userns\.conf\nlxc\.hook\.pre-start = \/pre\nlxc\.hook\.post-stop = \/post\n/m, "pvesim's hooks where lxc-pve's include brings PVE's");
  t.notMatch(adapted.files['rules.seccomp'], /mknod/);
  for (const said of [/userns\.conf/, /mknod=1/, /AppArmor is not enforced/, /^dev0: /, /^net0: /, /^env: /, /hooks/, /memory\.high = max not enforced/, /v1 equivalents/]) {
    t.ok(adapted.warnings.some((w) => said.test(w)), `announced: ${said}`);
  }
});

t.test('PVE 8 renders without what PVE 9 added; a pure cgroup v2 host enforces memory.high', async (t) => {
  const facts: RenderFacts = {
    pve: 8,
    firstStart: false,
    lxcPath: '/var/lib/lxc',
    hasLxcConfigFile: () => false,
    readLxcConfigFile: () => '2\ndenylist\n',
    device: () => ({ kind: 'c', major: 1, minor: 3 }),
    kernelVersion: [6, 8],
    pathExists: () => false,
    bridgeMtu: () => 1500,
    ctCpus: () => [0, 1],
    random: () => 0,
  };
  const conf = {
    options: { arch: 'amd64', ostype: 'debian', rootfs: '/x', unprivileged: '1', features: 'nesting=1,mknod=1', memory: '512', entrypoint: '/bin/app' },
    lxc: [] as Array<[string, string]>,
    env: ['A=1'],
  };
  const lines = (r: ReturnType<typeof updateLxcConfig>) => r.steps.flatMap((s) => s.lines.map(([k, v]) => `${k} = ${v}`));
  const pve8 = updateLxcConfig(conf, 100, facts);
  t.notOk(lines(pve8).some((l) => /allow mqueue|allow userns|dev\/shm|init\.cmd|environment\.runtime/.test(l)), "none of PVE 9's additions");
  t.ok(lines(pve8).includes('lxc.seccomp.notify.proxy = unix:/run/pve/lxc-syscalld.sock'), "PVE 8's syscalld socket");
  t.notMatch(pve8.files['rules.seccomp'], /^socket /m, 'no AF_ALG rule');
  const pve9 = updateLxcConfig(conf, 100, { ...facts, pve: 9 });
  t.ok(lines(pve9).includes('lxc.init.cmd = /bin/app') && lines(pve9).includes('lxc.apparmor.raw = allow mqueue,'));

  const unified = adaptToThisHost(pve9, conf, 100, '/', { preStart: '/pre', postStop: '/post' }, 'unified');
  t.ok(unified.lines.includes('lxc.cgroup2.memory.high = 532676608'), 'memory.high = memory × 1016 KiB, as PVE writes it');
  t.notOk(unified.warnings.some((w) => /lxc\.cgroup2|v1 equivalents/.test(w)), 'nothing to say about cgroups on a cgroup v2 host');
  const hybrid = adaptToThisHost(pve9, conf, 100, '/', { preStart: '/pre', postStop: '/post' }, 'hybrid');
  t.notOk(hybrid.lines.some((l) => l.startsWith('lxc.cgroup2.')));
  t.ok(hybrid.warnings.includes('lxc.cgroup2.memory.high = 532676608 not enforced on this host (hybrid cgroups, no v1 equivalent)'));

  const privileged = { ...conf, options: { ...conf.options, unprivileged: '0', ostype: 'debian', dev0: '/dev/null' } };
  t.doesNotThrow(() => updateLxcConfig(privileged, 100, facts), 'a privileged debian CT that started before passes');
  t.throws(() => updateLxcConfig(privileged, 100, { ...facts, firstStart: true }), { message: 'Device /dev/null does not exist' }, 'at its first start it fails');
  t.throws(() => updateLxcConfig({ ...privileged, options: { ...privileged.options, ostype: 'unmanaged' } }, 100, facts), { message: 'Device /dev/null does not exist' });
});
