// podman 4.3 + conmon run containers through pxoci on the simulated PVE node. Each scenario checks what
// the user sees and that the CT is in `pct list` while it runs and gone afterwards.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, runtimeWrapper, startSimNode, writePodmanConf, type SimNode } from './helpers/env.js';
import { pctList } from './helpers/node-checks.js';

if (!existsSync('/usr/bin/podman')) {
  t.fail('podman is not installed (scripts/install-deps.sh installs it)');
  process.exit(1);
}

const node: SimNode = startSimNode('podman');
const work = mkdtempSync(join(tmpdir(), 'pxoci-podman-'));
const stateRoot = join(work, 'state');
const wrapper = runtimeWrapper(node, work, ['--root', stateRoot]);
const conf = writePodmanConf(join(work, 'containers.conf'), { pxoci: wrapper }, 'pxoci');
const env = { ...node.env, CONTAINERS_CONF: conf };
const IMAGE = 'localhost/pxoci-busybox:latest';

function podman(...args: string[]) {
  return spawnSync('/usr/bin/podman', args, { env, encoding: 'utf8', timeout: 120_000 });
}

/** The same scenario under pxoci and under runc (podman's default runtime root, /run/runc). */
const RUNTIMES = [
  { name: 'pxoci', podman: ['--runtime', 'pxoci'], state: (id: string) => spawnSync(wrapper, ['state', id], { encoding: 'utf8' }) },
  { name: 'runc', podman: ['--runtime', '/usr/sbin/runc'], state: (id: string) => spawnSync('/usr/sbin/runc', ['state', id], { encoding: 'utf8' }) },
] as const;
const NAMESPACES = ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'user'];
const nsOf = (pid: number | string) => NAMESPACES.map((ns) => `${ns}:${readlinkSync(`/proc/${pid}/ns/${ns}`)}`);

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
  // PVE sets it on the CT's cgroup, above the container's cgroup namespace root: the effective limit.
  const inside = podman('exec', 'upd', 'grep', '^hierarchical_memory_limit ', '/sys/fs/cgroup/memory/memory.stat');
  t.match(inside.stdout, /^hierarchical_memory_limit 314572800$/m, 'the limit applies inside the CT');
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

t.test('podman exec -t: the output arrives from a terminal in the CT, as with runc', async (t) => {
  const outputs: string[] = [];
  for (const [name, runtime] of [['tty-pxoci', []], ['tty-runc', ['--runtime', '/usr/sbin/runc']]] as const) {
    const run = podman('run', ...runtime, '-d', '--name', name, '--network', 'none', IMAGE, 'sleep', '1000');
    t.equal(run.status, 0, run.stderr);
    // The pause keeps the process there for the engine's resize right after the start.
    const ex = podman('exec', '-t', name, 'sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && echo on-the-tty; sleep 1; exit 3');
    t.equal(ex.status, 3, `${name}: the exit code (${ex.stderr})`);
    outputs.push(ex.stdout.replace(/\/dev\/pts\/\d+/, '/dev/pts/N'));
    t.equal(podman('rm', '-f', '-t', '0', name).status, 0);
  }
  t.equal(outputs[0], '/dev/pts/N\r\non-the-tty\r\n', 'a tty name, stdio on it');
  t.equal(outputs[0], outputs[1], "runc's output");
  t.equal(pctList(node), '');
});

t.test('podman container checkpoint: pxoci says why not, and the container keeps running', async (t) => {
  const run = podman('run', '-d', '--name', 'ckpt', '--network', 'none', IMAGE, 'sleep', '1000');
  t.equal(run.status, 0, run.stderr);
  for (const extra of [[], ['--leave-running']]) {
    const r = podman('container', 'checkpoint', ...extra, 'ckpt');
    t.not(r.status, 0, `checkpoint ${extra.join(' ')} fails`);
    t.match(r.stderr, /^checkpoint: pxoci cannot checkpoint a container, which runs as a Proxmox VE CT: PVE's only CRIU path for a CT \(`pct suspend`\/`pct resume`\) is experimental/m, 'the reason reaches the user');
    t.notMatch(r.stderr, /Unknown argument/);
    t.equal(podman('inspect', '--format', '{{.State.Status}}', 'ckpt').stdout.trim(), 'running');
    t.equal(podman('exec', 'ckpt', 'echo', 'alive').stdout, 'alive\n', 'and still answers');
  }
  t.match(pctList(node), /running/);
  t.equal(podman('rm', '-f', '-t', '0', 'ckpt').status, 0);
  t.equal(pctList(node), '');
});

t.test('the pid podman gets is in the container: top, cp, stats and inspect act on it (runc side by side)', async (t) => {
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const name = `in-${rt.name}`;
      const run = podman(...rt.podman, 'run', '-d', '--name', name, '--network', 'none', IMAGE, 'sleep', '1000');
      t.equal(run.status, 0, run.stderr);
      const id = run.stdout.trim();
      const statePid = (JSON.parse(rt.state(id).stdout) as { pid: number }).pid;
      const pid = Number(podman('inspect', '--format', '{{.State.Pid}}', name).stdout.trim());
      t.ok(pid > 0, `State.Pid ${pid}`);

      // inspect: State.Pid is in the container's namespaces and cgroups, and its root is the container's.
      t.same(nsOf(pid), nsOf(statePid), "State.Pid shares every namespace of the container process");
      for (const ns of ['pid', 'mnt', 'net', 'ipc', 'uts']) t.not(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `not the host's ${ns} namespace`);
      t.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${statePid}/cgroup`, 'utf8'), "the container process's cgroups");
      if (rt.name === 'pxoci') {
        const rec = JSON.parse(readFileSync(join(stateRoot, id, 'state.json'), 'utf8')) as { initPid: number; keeperPid: number };
        t.equal(rec.keeperPid, pid, 'the pid-file pid is the keeper');
        t.same(nsOf(pid), nsOf(rec.initPid), "and the CT init's namespaces");
        t.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${rec.initPid}/cgroup`, 'utf8'), "the CT init's cgroups");
      }

      // top lists the container's pid namespace: runc's one process; pxoci's init and keeper are in the CT too.
      const top = podman('top', name, 'pid', 'args');
      t.equal(top.status, 0, top.stderr);
      const rows = top.stdout.trim().split('\n').slice(1).map((l) => l.trim().replace(/^\d+\s+/, ''));
      if (rt.name === 'pxoci') {
        t.equal(rows.length, 3, `three rows: ${JSON.stringify(rows)}`);
        t.match(rows.join('\n'), /^\/\.pxoci\/init/m, "pxoci's init");
        t.ok(rows.includes('pxoci-keeper'), 'the keeper, by name (no host path)');
      } else {
        t.equal(rows.length, 1, `one row: ${JSON.stringify(rows)}`);
      }
      t.ok(rows.some((r) => r.startsWith('sleep 1000')), 'the container process');

      // cp into and out of the running container: the container's files, never the host's.
      const probe = `/tmp/pxoci-cp-probe-${process.pid}-${rt.name}`;
      t.notOk(existsSync(probe), 'no host file at the probe path');
      const src = join(work, `cp-src-${rt.name}`);
      writeFileSync(src, `from the host to ${rt.name}\n`);
      const cpIn = podman('cp', src, `${name}:${probe}`);
      t.equal(cpIn.status, 0, cpIn.stderr);
      t.equal(podman('exec', name, 'cat', probe).stdout, `from the host to ${rt.name}\n`, 'the file is in the container');
      t.notOk(existsSync(probe), 'and not on the host');
      const outProbe = `${probe}-out`;
      writeFileSync(outProbe, 'the host file\n');
      t.equal(podman('exec', name, 'sh', '-c', `echo inside ${rt.name} > ${outProbe}`).status, 0);
      const dest = join(work, `cp-dest-${rt.name}`);
      const cpOut = podman('cp', `${name}:${outProbe}`, dest);
      t.equal(cpOut.status, 0, cpOut.stderr);
      t.equal(readFileSync(dest, 'utf8'), `inside ${rt.name}\n`, "the container's file came out");
      t.equal(readFileSync(outProbe, 'utf8'), 'the host file\n', 'the host file at that path is untouched');
      rmSync(outProbe);

      // stats reads the container's cgroup: 20 MB written to its /dev/shm (tmpfs) shows up.
      const mem = () => Number(podman('stats', '--no-stream', '--format', '{{.ContainerStats.MemUsage}}', name).stdout.trim());
      const before = mem();
      const dd = podman('exec', name, 'dd', 'if=/dev/zero', 'of=/dev/shm/fill', 'bs=1M', 'count=20');
      t.equal(dd.status, 0, dd.stderr);
      const after = mem();
      t.ok(after - before >= 15 * 1024 * 1024, `memory use rose by ${after - before} bytes (${before} → ${after})`);

      t.equal(podman('rm', '-f', '-t', '0', name).status, 0);
    });
  }
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
