// podman 4.3 + conmon run containers through pxoci on the simulated PVE node. Each scenario checks what
// the user sees and that the CT is in `pct list` while it runs and gone afterwards.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, runtimeWrapper, startSimNode, type SimNode } from './helpers/env.js';
import { pctList } from './helpers/node-checks.js';

if (!existsSync('/usr/bin/podman')) {
  t.fail('podman is not installed (scripts/install-deps.sh installs it)');
  process.exit(1);
}

const node: SimNode = startSimNode('podman');
const work = mkdtempSync(join(tmpdir(), 'pxoci-podman-'));
const stateRoot = join(work, 'state');
const wrapper = runtimeWrapper(node, work, ['--root', stateRoot]);
const conf = join(work, 'containers.conf');
writeFileSync(
  conf,
  [
    '[containers]',
    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
    '[engine]',
    'runtime = "pxoci"',
    'runtime_supports_json = ["crun", "runc", "pxoci"]',
    '[engine.runtimes]',
    `pxoci = ["${wrapper}"]`,
    '',
  ].join('\n'),
);
const env = { ...node.env, CONTAINERS_CONF: conf };
const IMAGE = 'localhost/pxoci-busybox:latest';

function podman(...args: string[]) {
  return spawnSync('/usr/bin/podman', args, { env, encoding: 'utf8', timeout: 120_000 });
}

t.before(() => {
  const tar = spawnSync('tar', ['-C', busyboxRootfs(), '-c', '.'], { maxBuffer: 1 << 30 });
  const imp = spawnSync('/usr/bin/podman', ['import', '-', IMAGE], { env, input: tar.stdout, encoding: 'utf8' });
  if (imp.status !== 0) throw new Error(`podman import: ${imp.stderr}`);
});
t.teardown(() => {
  podman('rm', '-af', '-t', '0');
  node.down();
});

t.test('podman info names pxoci and its version', async (t) => {
  const r = podman('info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^pxoci pxoci version \d+\.\d+\.\d+/);
});

t.test('podman run --rm: output and exit code 3, CT gone afterwards', async (t) => {
  const r = podman('run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'echo hello from pxoci; exit 3');
  t.equal(r.stdout, 'hello from pxoci\n', r.stderr);
  t.equal(r.status, 3);
  t.equal(pctList(node), '', 'no CT left');
});

t.test('podman run -d, exec with exit code 5, logs, stop of a TERM-ignoring process', async (t) => {
  const run = podman('run', '-d', '--name', 'svc', '--network', 'none', IMAGE, 'sh', '-c', 'trap "" TERM; echo started; while :; do sleep 1; done');
  t.equal(run.status, 0, run.stderr);
  t.match(pctList(node), /running/, 'the CT is listed while running');
  const ex = podman('exec', 'svc', 'sh', '-c', 'echo in-exec; exit 5');
  t.equal(ex.stdout, 'in-exec\n');
  t.equal(ex.status, 5);
  const logs = podman('logs', 'svc');
  t.equal(logs.stdout, 'started\n');
  const stop = podman('stop', '-t', '2', 'svc');
  t.equal(stop.status, 0, stop.stderr);
  const inspect = podman('inspect', '--format', '{{.State.ExitCode}}', 'svc');
  t.equal(inspect.stdout.trim(), '137', 'SIGKILL after the timeout');
  t.equal(podman('rm', 'svc').status, 0);
  t.equal(pctList(node), '');
});

t.test('podman kill -s USR1 is delivered; pause/unpause; rm -f', async (t) => {
  const run = podman('run', '-d', '--name', 'sig', '--network', 'none', IMAGE, 'sh', '-c', 'trap "echo got-usr1" USR1; while :; do sleep 0.2; done');
  t.equal(run.status, 0, run.stderr);
  t.equal(podman('kill', '-s', 'USR1', 'sig').status, 0);
  await new Promise((r) => setTimeout(r, 1000));
  t.match(podman('logs', 'sig').stdout, /got-usr1/);
  t.equal(podman('pause', 'sig').status, 0);
  t.equal(podman('inspect', '--format', '{{.State.Status}}', 'sig').stdout.trim(), 'paused');
  t.equal(podman('unpause', 'sig').status, 0);
  t.equal(podman('inspect', '--format', '{{.State.Status}}', 'sig').stdout.trim(), 'running');
  t.equal(podman('rm', '-f', 'sig').status, 0);
  t.equal(pctList(node), '');
});

t.test('podman run -t gets a terminal from the CT', async (t) => {
  const r = podman('run', '--rm', '-t', '--network', 'none', IMAGE, 'sh', '-c', 'tty; exit 4');
  t.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/, r.stderr);
  t.equal(r.status, 4);
});

t.test('podman update --memory changes the CT config and the live limit', async (t) => {
  t.equal(podman('run', '-d', '--name', 'upd', '--network', 'none', IMAGE, 'sleep', '1000').status, 0);
  const u = podman('update', '--memory', '300m', 'upd');
  t.equal(u.status, 0, u.stderr);
  const vmid = pctList(node).split('\n')[1]!.split(/\s+/)[0]!;
  const conf = spawnSync(join(node.root, 'usr/sbin/pct'), ['config', vmid], { env, encoding: 'utf8' }).stdout;
  t.match(conf, /^memory: 300$/m, 'the PVE config says 300 MiB');
  const inside = podman('exec', 'upd', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max');
  t.match(inside.stdout, /^314572800$/m, 'the limit applies inside the CT');
  t.equal(podman('rm', '-f', 'upd').status, 0);
  t.equal(pctList(node), '');
});

t.test('10 containers in parallel get distinct VMIDs and all run', async (t) => {
  const runs = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn('/usr/bin/podman', ['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', `echo par-${i}; exit ${i}`], { env });
        let out = '';
        c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        c.on('close', (code) => resolve({ code, out }));
      }),
    ),
  );
  runs.forEach((r, i) => {
    t.equal(r.out, `par-${i}\n`);
    t.equal(r.code, i);
  });
  t.equal(pctList(node), '');
});

// podman --privileged lists every host device, /dev/ptmx, /dev/console and /dev/tty0…63 among them,
// which LXC sets up itself: the ones LXC owns stay LXC's, the rest are nodes pxoci makes.
t.test('podman run --privileged: host devices, /dev/ptmx the symlink to pts/ptmx', async (t) => {
  const r = podman('run', '--rm', '--privileged', '--network', 'none', IMAGE, 'sh', '-c', 'readlink /dev/ptmx; [ -c /dev/loop-control ] && echo host-device; [ -c /dev/tty0 ] && echo tty0; exit 0');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'pts/ptmx\nhost-device\ntty0\n', r.stderr);
  t.equal(pctList(node), '');
});

// --read-only mounts tmpfs on /run, /tmp and /var/tmp with tmpcopyup; --tmpfs adds it too.
t.test('podman run --read-only and --tmpfs (tmpcopyup): writable tmpfs with the image files, read-only root', async (t) => {
  const r = podman('run', '--rm', '--read-only', '--tmpfs', '/etc', '--network', 'none', IMAGE, 'sh', '-c', 'touch /tmp/x && echo tmp-writable; touch /x 2>/dev/null || echo root-readonly; grep -c ^root: /etc/passwd; touch /etc/new && echo etc-writable');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'tmp-writable\nroot-readonly\n1\netc-writable\n', r.stderr);
  t.equal(pctList(node), '');
});

// Without the tmpfs on /run, podman's /run/.containerenv bind needs a mount point the image lacks on
// a root that is read-only: made before the root becomes read-only, as runc does.
t.test('podman run --read-only --read-only-tmpfs=false: the engine\'s file binds on a read-only root', async (t) => {
  const r = podman('run', '--rm', '--read-only', '--read-only-tmpfs=false', '--network', 'none', IMAGE, 'sh', '-c', 'test -f /run/.containerenv && echo containerenv; touch /x 2>/dev/null || echo root-readonly');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'containerenv\nroot-readonly\n', r.stderr);
  t.equal(pctList(node), '');
});
