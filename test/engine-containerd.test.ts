// containerd 1.6 (io.containerd.runc.v2 shim, `ctr run --runc-binary`) runs containers through pxoci on the
// simulated PVE node. A private containerd instance listens on a socket in a temp dir.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, runtimeWrapper, startSimNode, type SimNode } from './helpers/env.js';
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
let daemon: ChildProcess | undefined;

function ctr(args: string[], timeout = 120_000) {
  return spawnSync('/usr/bin/ctr', ['--address', address, ...args], { env: node.env, encoding: 'utf8', timeout });
}

t.before(async () => {
  daemon = spawn('/usr/bin/containerd', ['--config', config], { stdio: 'ignore', env: node.env });
  for (let i = 0; i < 100 && !existsSync(address); i++) await sleep(100);
  const rootfs = busyboxRootfs();
  // An image from a local rootfs, no registry: a one-layer docker archive built with podman-free tools.
  const imageDir = join(work, 'image');
  const r = spawnSync('sh', ['-c', `
    set -e; mkdir -p ${imageDir}/layer; cd ${imageDir}
    tar -C ${rootfs} -cf layer/layer.tar .
    diff=$(sha256sum layer/layer.tar | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' $diff > config.json
    printf '[{"Config":"config.json","RepoTags":["pxoci-busybox:latest"],"Layers":["layer/layer.tar"]}]' > manifest.json
    tar -cf ../image.tar config.json manifest.json layer/layer.tar`]);
  if (r.status !== 0) throw new Error(`image build: ${r.stderr}`);
  const imp = ctr(['images', 'import', join(work, 'image.tar')]);
  if (imp.status !== 0) throw new Error(`ctr images import: ${imp.stderr}`);
});
t.teardown(() => {
  daemon?.kill('SIGTERM');
  node.down();
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
  const cmd = `/usr/bin/ctr --address ${address} run --rm -t --runc-binary ${wrapper} ${IMAGE} c3 sh -c 'tty; exit 2'`;
  const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: node.env, encoding: 'utf8', timeout: 60_000 });
  t.match(r.stdout, /\/dev\/pts\/\d+\r*\n/, r.stderr);
  t.equal(r.status, 2);
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
