// containerd 1.6 (io.containerd.runc.v2 shim, `ctr run --runc-binary`) runs containers through pxoci on the
// simulated PVE node. A private containerd instance listens on a socket in a temp dir.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, runtimeWrapper, startSimNode, type SimNode } from './helpers/env.js';
import { dockerArchive } from './helpers/images.js';
import { pctList } from './helpers/node-checks.js';
import { sleep } from './helpers/wait.js';

if (!existsSync('/usr/bin/containerd')) {
  t.fail('containerd is not installed (scripts/install-deps.sh installs it)');
  process.exit(1);
}

const node: SimNode = startSimNode('containerd');
const work = mkdtempSync(join(tmpdir(), 'pxoci-containerd-'));
const wrapper = runtimeWrapper(node, work);
const address = join(work, 'containerd.sock');
const config = join(work, 'config.toml');
writeFileSync(
  config,
  [
    'version = 2',
    `root = "${join(work, 'root')}"`,
    `state = "${join(work, 'state')}"`,
    '[grpc]',
    `  address = "${address}"`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    '  disable_cgroup = true',
    '',
  ].join('\n'),
);
const IMAGE = 'docker.io/library/pxoci-busybox:latest';
// The shim gives the runtime --root /run/containerd/runc/<namespace>, whichever containerd runs it: a
// namespace of our own keeps our ids apart from other containerd instances' on this machine.
const namespace = `pxoci-test-${process.pid}`;
let daemon: ChildProcess | undefined;

function ctr(args: string[], timeout = 120_000) {
  return spawnSync('/usr/bin/ctr', ['--address', address, '--namespace', namespace, ...args], { env: node.env, encoding: 'utf8', timeout });
}

t.before(async () => {
  daemon = spawn('/usr/bin/containerd', ['--config', config], { stdio: 'ignore', env: node.env });
  for (let i = 0; i < 100 && !existsSync(address); i++) await sleep(100);
  // An image from a local rootfs, no registry.
  dockerArchive(busyboxRootfs(), 'pxoci-busybox:latest', join(work, 'image.tar'));
  const imp = ctr(['images', 'import', join(work, 'image.tar')]);
  if (imp.status !== 0) throw new Error(`ctr images import: ${imp.stderr}`);
});
t.teardown(() => {
  daemon?.kill('SIGTERM');
  node.down();
  rmSync(`/run/containerd/runc/${namespace}`, { recursive: true, force: true });
});

t.test('ctr run --rm: output and exit code', async (t) => {
  const r = ctr(['run', '--rm', '--runc-binary', wrapper, IMAGE, 'c1', 'sh', '-c', 'echo hello from ctr; exit 4']);
  t.equal(r.stdout, 'hello from ctr\n', r.stderr);
  t.equal(r.status, 4);
  t.equal(pctList(node), '');
});

t.test('detached task: exec, ps, pause/resume, kill, delete', async (t) => {
  const run = ctr(['run', '-d', '--runc-binary', wrapper, IMAGE, 'c2', 'sh', '-c', 'while :; do sleep 0.2; done']);
  t.equal(run.status, 0, run.stderr);
  t.match(pctList(node), /running/);
  const ex = ctr(['task', 'exec', '--exec-id', 'e1', 'c2', 'sh', '-c', 'echo from-exec; exit 6']);
  t.equal(ex.stdout, 'from-exec\n', ex.stderr);
  t.equal(ex.status, 6);
  const ps = ctr(['task', 'ps', 'c2']);
  t.equal(ps.status, 0, ps.stderr);
  t.match(ps.stdout, /PID/);
  t.equal(ctr(['task', 'pause', 'c2']).status, 0);
  t.match(ctr(['task', 'ls']).stdout, /c2\s+\d+\s+PAUSED/);
  t.equal(ctr(['task', 'resume', 'c2']).status, 0);
  t.match(ctr(['task', 'ls']).stdout, /c2\s+\d+\s+RUNNING/);
  t.equal(ctr(['task', 'kill', '-s', 'SIGKILL', 'c2']).status, 0);
  for (let i = 0; i < 100 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) await sleep(100);
  t.match(ctr(['task', 'ls']).stdout, /c2\s+\d+\s+STOPPED/);
  t.equal(ctr(['task', 'delete', 'c2']).status, 0);
  t.equal(ctr(['container', 'delete', 'c2']).status, 0);
  t.equal(pctList(node), '');
});

t.test('ctr run -t gets a terminal', async (t) => {
  // ctr -t wants its own stdin to be a terminal: script(1) gives it one.
  const cmd = `/usr/bin/ctr --address ${address} --namespace ${namespace} run --rm -t --runc-binary ${wrapper} ${IMAGE} c3 sh -c 'tty; exit 2'`;
  const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: node.env, encoding: 'utf8', timeout: 60_000 });
  t.match(r.stdout, /\/dev\/pts\/\d+\r*\n/, r.stderr);
  t.equal(r.status, 2);
  t.equal(pctList(node), '');
});

/** A detached task's end: killed, its task and container deleted. */
function removeTask(name: string) {
  ctr(['task', 'kill', '-s', 'SIGKILL', name]);
  for (let i = 0; i < 50 && !new RegExp(`${name}\\s+\\d+\\s+STOPPED`).test(ctr(['task', 'ls']).stdout); i++) spawnSync('sleep', ['0.1']);
  ctr(['task', 'delete', name]);
  ctr(['container', 'delete', name]);
}

t.test('ctr task exec -t: the output arrives from a terminal in the CT, as with runc', async (t) => {
  const outputs: string[] = [];
  for (const [name, binary] of [['tty-pxoci', wrapper], ['tty-runc', '/usr/sbin/runc']]) {
    const run = ctr(['run', '-d', '--runc-binary', binary!, IMAGE, name!, 'sleep', '1000']);
    t.equal(run.status, 0, run.stderr);
    // ctr -t wants its own stdin to be a terminal: script(1) gives it one. The pause keeps the process
    // there for ctr's resize right after the start, which fails (an ERRO line) on a finished process.
    const cmd = `/usr/bin/ctr --address ${address} --namespace ${namespace} task exec -t --exec-id e1 ${name} sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo on-the-tty; sleep 1; exit 3'`;
    const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: node.env, encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 3, `${name}: the exit code (${r.stderr})`);
    // script(1) shows a NUL that ctr writes to its terminal as ^@, at no fixed place (runc's as well).
    outputs.push(r.stdout.replace(/\/dev\/pts\/\d+/, '/dev/pts/N').replace(/\^@/g, ''));
    removeTask(name!);
  }
  t.match(outputs[0], /^\/dev\/pts\/N\r+\non-the-tty\r+\n$/, 'a tty name, stdio on it');
  t.equal(outputs[0], outputs[1], "runc's output (through ctr's terminal as well)");
  t.equal(pctList(node), '');
});

t.test('ctr task checkpoint: pxoci says why not, and the task keeps running', async (t) => {
  const run = ctr(['run', '-d', '--runc-binary', wrapper, IMAGE, 'ckpt', 'sleep', '1000']);
  t.equal(run.status, 0, run.stderr);
  for (const extra of [[], ['--exit']]) {
    const r = ctr(['task', 'checkpoint', ...extra, 'ckpt']);
    t.not(r.status, 0, `checkpoint ${extra.join(' ')} fails`);
    t.match(r.stderr, /pxoci cannot checkpoint a container, which runs as a Proxmox VE CT: PVE's only CRIU path for a CT/, 'the reason reaches the user');
    t.notMatch(r.stderr, /Unknown argument/);
    t.match(ctr(['task', 'ls']).stdout, /ckpt\s+\d+\s+RUNNING/);
    t.equal(ctr(['task', 'exec', '--exec-id', 'alive', 'ckpt', 'echo', 'alive']).stdout, 'alive\n', 'and still answers');
  }
  removeTask('ckpt');
  t.equal(pctList(node), '');
});

t.test('the task pid is in the container: task ps, task metrics and its namespaces (runc side by side)', async (t) => {
  const nsOf = (pid: number) => ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'user'].map((ns) => `${ns}:${readlinkSync(`/proc/${pid}/ns/${ns}`)}`);
  for (const [name, binary] of [['pxoci', wrapper], ['runc', '/usr/sbin/runc']] as const) {
    await t.test(name, async (t) => {
      const id = `in-${name}`;
      const run = ctr(['run', '-d', '--runc-binary', binary, IMAGE, id, 'sleep', '1000']);
      t.equal(run.status, 0, run.stderr);
      const taskPid = Number(new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec(ctr(['task', 'ls']).stdout)?.[1]);
      t.ok(taskPid > 0, `task pid ${taskPid}`);
      // task ps: the container's processes only (pxoci leaves out its init and keeper).
      const ps = ctr(['task', 'ps', id]);
      t.equal(ps.status, 0, ps.stderr);
      const pids = ps.stdout.trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
      t.equal(pids.length, 1, `one process: ${ps.stdout}`);
      const processPid = pids[0]!;
      t.match(readFileSync(`/proc/${processPid}/cmdline`, 'utf8'), /^sleep\x001000\x00$/, 'the container process');
      if (name === 'pxoci') t.not(taskPid, processPid, "the task pid is pxoci's keeper");
      else t.equal(taskPid, processPid, "runc's task pid is the process");
      t.same(nsOf(taskPid), nsOf(processPid), "the task pid shares every namespace of the container process");
      for (const ns of ['pid', 'mnt', 'net', 'ipc', 'uts']) t.not(readlinkSync(`/proc/${taskPid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `not the host's ${ns} namespace`);
      t.equal(readFileSync(`/proc/${taskPid}/cgroup`, 'utf8'), readFileSync(`/proc/${processPid}/cgroup`, 'utf8'), "the container process's cgroups");
      // task metrics reads the task pid's cgroup: 20 MB written to the container's /dev/shm (tmpfs) show.
      const usage = () => (JSON.parse(ctr(['task', 'metrics', '--format', 'json', id]).stdout) as { memory: { usage: { usage: number } } }).memory.usage.usage;
      const before = usage();
      const dd = ctr(['task', 'exec', '--exec-id', 'fill', id, 'dd', 'if=/dev/zero', 'of=/dev/shm/fill', 'bs=1M', 'count=20']);
      t.equal(dd.status, 0, dd.stderr);
      const after = usage();
      t.ok(after - before >= 15 * 1024 * 1024, `memory use rose by ${after - before} bytes (${before} → ${after})`);
      t.equal(ctr(['task', 'kill', '-s', 'SIGKILL', id]).status, 0);
      for (let i = 0; i < 100 && !new RegExp(`${id}\\s+\\d+\\s+STOPPED`).test(ctr(['task', 'ls']).stdout); i++) await sleep(100);
      t.equal(ctr(['task', 'delete', id]).status, 0);
      t.equal(ctr(['container', 'delete', id]).status, 0);
    });
  }
  t.equal(pctList(node), '');
});

// ctr --privileged lists every host device, /dev/ptmx and /dev/console among them, which LXC sets up
// itself: the ones LXC owns stay LXC's, the rest are nodes pxoci makes.
t.test('ctr run --privileged: host devices, /dev/ptmx the symlink to pts/ptmx', async (t) => {
  const r = ctr(['run', '--rm', '--privileged', '--runc-binary', wrapper, IMAGE, 'c4', 'sh', '-c', 'readlink /dev/ptmx; [ -c /dev/loop-control ] && echo host-device; exit 0']);
  t.equal(r.stdout, 'pts/ptmx\nhost-device\n', r.stderr);
  t.equal(r.status, 0);
  t.equal(pctList(node), '');
});
