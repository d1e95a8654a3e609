// The keeper, the pid-file process, lives in the CT (docs/DESIGN.md, "The keeper"): its namespaces,
// cgroups and root are the CT's, the one unix socket of pxoci's CT processes has both ends in the
// CT, no other local user reaches that socket or reads the process spec, whatever the caller's umask,
// and a keeper writes only into its own container's state dir.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureStdio, createWithPipes, dist, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { encodeInitSpec } from '../src/oci/initspec.js';
import { processToInitSpec } from '../src/oci/translate.js';
import { sleep, waitUntil } from './helpers/wait.js';

const sim = startSimNode('keeper');
t.teardown(() => sim.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-keepertest-'));
// Others may pass through (a user-namespaced CT's root must reach its bundle and ct/): what keeps them
// out of a container's files must be pxoci's own modes, as under the default /run/pxoci.
chmodSync(work, 0o755);
const node: SimNode = { ...sim, stateRoot: join(work, 'state') };
const pct = (...args: string[]) => spawnSync(join(sim.root, 'usr/sbin/pct'), args, { env: sim.env, encoding: 'utf8' });

interface Rec {
  vmid: number;
  initPid: number;
  pid: number;
  keeperPid: number;
}
const record = (id: string) => JSON.parse(readFileSync(join(node.stateRoot, id, 'state.json'), 'utf8')) as Rec;
const NAMESPACES = ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'user'];
const nsOf = (pid: number) => NAMESPACES.map((ns) => `${ns}:${readlinkSync(`/proc/${pid}/ns/${ns}`)}`);
const alive = (pid: number) => {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const userns = (s: Record<string, any>) => {
  s.linux.namespaces.push({ type: 'user' });
  s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};
/** A bundle whose files belong to the CT's mapped root, as PVE's pct create leaves them. */
function usernsBundle(name: string, o: Parameters<typeof makeBundle>[2] = {}): string {
  const bundle = makeBundle(work, name, { ...o, patch: (s) => (userns(s), o.patch?.(s)) });
  spawnSync('chown', ['-R', '100000:100000', join(bundle, 'rootfs')]);
  return bundle;
}

/** Runs `cmd` as a local user without rights (nobody), the way setpriv(1) drops everything. */
function asNobody(cmd: string[], input?: string) {
  return spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...cmd], { encoding: 'utf8', input });
}

/** `ss -x` in a network namespace: each unix socket's inode and its peer's. */
function unixPeers(netnsPid: number): Map<number, number> {
  const r = spawnSync('nsenter', ['-t', String(netnsPid), '-n', 'ss', '-x', '-a', '-n'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ss: ${r.stderr}`);
  const peers = new Map<number, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^u_\w+\s+\S+\s+\d+\s+\d+\s+\S+\s+(\d+)\s+\S+\s+(\d+)/.exec(line);
    if (m) peers.set(Number(m[1]), Number(m[2]));
  }
  return peers;
}
/** Socket inodes among a process's fds from `from` on. */
function socketsOf(pid: number, from = 0): number[] {
  return readdirSync(`/proc/${pid}/fd`)
    .filter((fd) => Number(fd) >= from)
    .map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

for (const [kind, bundleOf] of [
  ['privileged', () => makeBundle(work, 'inside', { args: ['sleep', '1000'] })],
  ['user-namespaced', () => usernsBundle('inside-userns', { args: ['sleep', '1000'] })],
] as const) {
  t.test(`${kind}: the keeper is a process of the CT, and so is every peer of pxoci's unix socket`, async (t) => {
    const id = `inside-${kind}`;
    const bundle = bundleOf();
    const c = createWithPipes(node, id, bundle);
    t.equal(await c.exited, 0, c.err());
    const rec = record(id);
    t.same(nsOf(rec.keeperPid), nsOf(rec.initPid), "the keeper is in every namespace of the CT's init");
    if (kind === 'user-namespaced') t.not(readlinkSync(`/proc/${rec.keeperPid}/ns/user`), readlinkSync('/proc/self/ns/user'), "not the host's user namespace");
    t.equal(readFileSync(`/proc/${rec.keeperPid}/cgroup`, 'utf8'), readFileSync(`/proc/${rec.initPid}/cgroup`, 'utf8'), "and in its cgroups");
    t.match(readFileSync(`/proc/${rec.keeperPid}/cgroup`, 'utf8'), new RegExp(`/lxc/${rec.vmid}/`), "the CT's (lxc/<vmid>)");
    t.equal(statSync(`/proc/${rec.keeperPid}/root/`).ino, statSync(join(bundle, 'rootfs')).ino, "its / is the container's rootfs");
    t.match(readFileSync(`/proc/${rec.keeperPid}/status`, 'utf8'), /^NSpid:\t\d+\t\d+$/m, 'it has a pid in the CT');
    t.equal(readFileSync(`/proc/${rec.keeperPid}/cmdline`, 'utf8'), 'pxoci-keeper\0', 'the CT sees its name, no host path');

    // Every unix socket of pxoci's CT processes (init, keeper, the container process waiting for start)
    // is connected to a socket of one of them: on a real node AppArmor lets a CT process talk only to
    // peers with the CT's label, which all of these have. The container process's fds 0..2 are the
    // caller's stdio, whatever the caller made them (here Node's socketpairs; conmon and the containerd
    // shim give pipes), and not pxoci's.
    const ours = (pid: number) => socketsOf(pid, pid === rec.pid ? 3 : 0);
    const inCt = [rec.initPid, rec.keeperPid, rec.pid];
    const peers = unixPeers(rec.initPid);
    const holder = new Map<number, number>();
    for (const pid of inCt) for (const inode of socketsOf(pid)) holder.set(inode, pid);
    let pairs = 0;
    for (const pid of inCt) {
      for (const inode of ours(pid)) {
        const peer = peers.get(inode);
        t.ok(peer !== undefined, `socket ${inode} of pid ${pid} is a unix socket of the CT's network namespace`);
        if (!peer) continue;
        const peerPid = holder.get(peer);
        t.ok(peerPid !== undefined, `its peer ${peer} is held by a process of the CT (${peerPid})`);
        if (peerPid === undefined) continue;
        t.same(nsOf(peerPid), nsOf(rec.initPid), "the peer is in the CT's namespaces");
        t.equal(readFileSync(`/proc/${peerPid}/cgroup`, 'utf8'), readFileSync(`/proc/${rec.initPid}/cgroup`, 'utf8'), "and its cgroups");
        if (pid === rec.initPid && peerPid === rec.keeperPid) pairs++;
      }
    }
    t.equal(pairs, 1, 'init.sock: the init is connected to the keeper');
    t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
    await c.closed;
  });
}

t.test('whatever the umask, no other user reaches init.sock or its folder, nor reads the process spec or the seccomp policy', async (t) => {
  const id = 'umask000';
  const bundle = makeBundle(work, id, {
    args: ['sleep', '1000'],
    env: ['PATH=/bin', 'DB_PASSWORD=secret-value'],
    patch: (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] }),
  });
  const ct = join(node.stateRoot, id, 'ct');
  // Nobody tries to connect where the socket is (and where it was), all through the create.
  const prober = spawn(
    'setpriv',
    ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', `
      const net = require('node:net');
      const paths = ${JSON.stringify([join(ct, 'init.sock'), join(ct, 'run', 'init.sock')])};
      setInterval(() => { for (const p of paths) net.connect(p).on('connect', () => console.log('connected ' + p)).on('error', () => {}); }, 2);
    `],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let probed = '';
  prober.stdout.setEncoding('utf8').on('data', (d: string) => (probed += d));
  await sleep(300);
  const c = captureStdio(
    spawn('sh', ['-c', 'umask 000; exec "$@"', 'sh', pxociBin, '--root', node.stateRoot, 'create', '--bundle', bundle, id], { env: sim.env, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  t.equal(await c.exited, 0, c.err());
  prober.kill();
  await new Promise((r) => prober.on('exit', r));
  t.equal(probed, '', 'nobody connected');
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  t.equal(mode(ct), '700', 'ct/ 0700');
  t.equal(mode(join(ct, 'run')), '700', 'ct/run/ 0700');
  t.equal(mode(join(ct, 'process')), '600', 'ct/process 0600');
  t.equal(mode(join(ct, 'seccomp')), '600', 'ct/seccomp 0600');
  t.match(readFileSync(join(ct, 'process'), 'utf8'), /secret-value/, 'the spec holds the secret');
  for (const file of ['process', 'seccomp']) {
    const r = asNobody(['cat', join(ct, file)]);
    t.not(r.status, 0, `nobody cannot read ct/${file}`);
    t.notMatch(r.stdout, /secret-value|reboot/);
  }
  t.not(asNobody(['ls', join(ct, 'run')]).status, 0, 'nor list ct/run');
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
  await c.closed;
});

t.test("a user-namespaced CT's files in ct/ belong to its root, who alone may read them", async (t) => {
  const id = 'userns-files';
  const c = createWithPipes(node, id, usernsBundle(id, { args: ['cat', '/proc/self/status'] }));
  t.equal(await c.exited, 0, c.err());
  const ct = join(node.stateRoot, id, 'ct');
  for (const p of [ct, join(ct, 'run'), join(ct, 'process'), join(ct, 'start.fifo')]) {
    const st = statSync(p);
    t.same([st.uid, st.gid], [100000, 100000], `${p} is the CT root's`);
    t.equal(st.mode & 0o077, 0, `${p}: nothing for group or others`);
  }
  t.equal(pxoci(node, ['start', id]).status, 0);
  await c.closed;
  t.match(c.out(), /^Uid:\t0\t0\t0\t0$/m, 'the process ran (its init could read the spec)');
  t.equal(pxoci(node, ['delete', id]).status, 0);
});

t.test('a state dir removed and re-created behind pxoci\'s back never gets the old keeper\'s exit file', async (t) => {
  const id = 'reborn';
  const bundle = makeBundle(work, id, { args: ['sleep', '1000'] });
  const first = createWithPipes(node, id, bundle);
  t.equal(await first.exited, 0, first.err());
  const old = record(id);
  rmSync(join(node.stateRoot, id), { recursive: true, force: true });
  const second = createWithPipes(node, id, bundle);
  t.equal(await second.exited, 0, second.err());
  // The old container's process ends: its keeper records the status, in its own (removed) state dir.
  process.kill(old.pid, 'SIGKILL');
  await waitUntil(() => !alive(old.keeperPid));
  await sleep(200);
  t.notOk(existsSync(join(node.stateRoot, id, 'exit')), 'no exit file in the new state dir');
  t.equal(JSON.parse(pxoci(node, ['state', id]).stdout).status, 'created', 'the new container is still created');
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
  // The old CT outlived its state dir (delete --force of the id does not know it): remove it by hand.
  pct('stop', String(old.vmid));
  pct('destroy', String(old.vmid));
  await Promise.all([first.closed, second.closed]);
});

t.test('kill --all and ps leave out pxoci\'s init and keeper', async (t) => {
  const id = 'all';
  const bundle = makeBundle(work, id, { args: ['sh', '-c', 'trap "exit 5" USR1; sleep 1000 & wait'] });
  const c = createWithPipes(node, id, bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(pxoci(node, ['start', id]).status, 0);
  const rec = record(id);
  await waitUntil(() => (JSON.parse(pxoci(node, ['ps', '--format', 'json', id]).stdout) as number[]).length === 2);
  const pids = JSON.parse(pxoci(node, ['ps', '--format', 'json', id]).stdout) as number[];
  t.ok(pids.includes(rec.pid), 'ps lists the container process');
  t.notOk(pids.includes(rec.initPid) || pids.includes(rec.keeperPid), `nor the init ${rec.initPid} nor the keeper ${rec.keeperPid}: ${pids}`);
  const table = pxoci(node, ['ps', id]).stdout;
  t.notMatch(table, /pxoci-keeper|\/\.pxoci\/init/, 'the table neither');
  // USR1 ends an untrapped process: the keeper must survive it to report the container's own status.
  t.equal(pxoci(node, ['kill', '--all', id, 'USR1']).status, 0);
  await c.closed;
  // A keeper killed by the signal would have written nothing.
  await waitUntil(() => existsSync(join(node.stateRoot, id, 'exit')));
  t.equal(readFileSync(join(node.stateRoot, id, 'exit'), 'utf8'), `${5 << 8}\n`, "the keeper recorded the trap's exit 5");
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
});

t.test('an IPC sysctl in a user-namespaced container is set inside its IPC namespace, as runc does', async (t) => {
  const patch = (s: Record<string, any>) => (s.linux.sysctl = { 'kernel.msgmax': '12345' });
  const args = ['cat', '/proc/sys/kernel/msgmax'];
  const host = readFileSync('/proc/sys/kernel/msgmax', 'utf8');
  const id = 'sysctl-userns';
  const c = createWithPipes(node, id, usernsBundle(id, { args, patch }));
  t.equal(await c.exited, 0, c.err());
  t.equal(pxoci(node, ['start', id]).status, 0);
  await c.closed;
  t.equal(c.out(), '12345\n', 'pxoci: the value inside');
  t.equal(pxoci(node, ['delete', id]).status, 0);
  const runcBundle = usernsBundle('sysctl-userns-runc', { args, patch });
  const runc = spawnSync('/usr/sbin/runc', ['--root', join(work, 'runc'), 'run', '--bundle', runcBundle, `pxoci-keeper-test-${process.pid}`], { encoding: 'utf8', timeout: 60_000 });
  t.equal(runc.stdout, '12345\n', `runc: the value inside ${runc.stderr}`);
  t.equal(readFileSync('/proc/sys/kernel/msgmax', 'utf8'), host, "the host's value is unchanged");
});

t.test("the init takes one connection, from a process attached to its pid namespace from outside: a host process's is refused", async (t) => {
  // The init alone, as PID 1 of a new pid namespace chrooted into a bare root: no LXC, no keeper, so
  // the test decides who connects first.
  const root = mkdtempSync(join(work, 'bare-'));
  mkdirSync(join(root, '.pxoci/run'), { recursive: true });
  mkdirSync(join(root, 'proc'));
  copyFileSync(join(dist, 'pxoci-init'), join(root, '.pxoci/init'));
  writeFileSync(join(root, '.pxoci/process'), encodeInitSpec(processToInitSpec({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } })));
  const ns = spawn('unshare', ['--pid', '--fork', `--mount-proc=${join(root, 'proc')}`, 'chroot', root, '/.pxoci/init'], { stdio: 'ignore' });
  const socket = join(root, '.pxoci/run/init.sock');
  let init = 0;
  try {
    await waitUntil(() => existsSync(socket));
    init = Number(readFileSync(`/proc/${ns.pid}/task/${ns.pid}/children`, 'utf8').trim());

    const host = await new Promise<string>((resolve) => {
      let got = '';
      const s = createConnection(socket);
      s.on('data', (d) => (got += d.toString('hex')));
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
      setTimeout(() => (resolve('still connected after 5 s'), s.destroy()), 5000);
    });
    t.equal(host, '', 'a host process is disconnected without a byte');
    t.ok(existsSync(socket), 'and the init still listens');

    // nsenter -p forks its command into the init's pid namespace, its parent staying outside: how the
    // keeper arrives.
    const attached = spawnSync('nsenter', ['-t', String(init), '-p', '--', process.execPath, '-e', `
      const s = require('node:net').createConnection(${JSON.stringify(socket)});
      s.on('connect', () => setTimeout(() => { console.log(require('node:fs').existsSync(${JSON.stringify(socket)}) ? 'still listening' : 'accepted'); s.end(); }, 300));
      s.on('error', (e) => console.log(e.message));
    `], { encoding: 'utf8', timeout: 20_000 });
    t.equal(attached.stdout, 'accepted\n', `an attached process is taken, and the socket is gone ${attached.stderr}`);
  } finally {
    // Without the keeper's stdio the init gives up once that connection closes; a failed test may
    // leave it waiting.
    if (init > 0 && alive(init)) process.kill(init, 'SIGKILL');
    await new Promise((r) => (ns.exitCode === null ? ns.on('exit', r) : r(undefined)));
  }
});

t.test("a CT slow to start (a loaded node, a held lock) is waited for: the init's 30 s count from pct start's return", async (t) => {
  // Its own node, whose pct takes longer to start a CT than the launcher waits for the init.
  const slow = startSimNode('keeper-slow');
  t.teardown(() => slow.down());
  const pctPath = join(slow.root, 'usr/sbin/pct');
  renameSync(pctPath, `${pctPath}.real`);
  writeFileSync(pctPath, `#!/bin/sh\n[ "$1" = start ] && sleep 32\nexec '${pctPath}.real' "$@"\n`, { mode: 0o755 });
  const id = 'slow-start';
  const c = createWithPipes(slow, id, makeBundle(work, id, { args: ['sh', '-c', 'echo started; exit 4'] }));
  t.equal(await c.exited, 0, `create waits for the slow pct start: ${c.err()}`);
  t.equal(pxoci(slow, ['start', id]).status, 0);
  await c.closed;
  t.equal(c.out(), 'started\n');
  t.equal(pxoci(slow, ['delete', id]).status, 0);
});
