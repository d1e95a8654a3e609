// What a local user without rights can make pxoci do, tried as that user would: files planted where
// pxoci writes at a path its caller names (--pid-file, exec --pid-file, --log), a state record naming
// a host process, and pxoci run by a non-root user on root's state dir. Each must leave the host
// untouched and say what is wrong.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureStdio, createWithPipes, dist, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs, leftovers } from './helpers/node-checks.js';
import { sleep } from './helpers/wait.js';

const node: SimNode = startSimNode('hostsafety');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-hostsafety-'));
const bundle = makeBundle(work, 'sleeper', { args: ['sleep', '1000'] });

/** A directory any local user can write (like /tmp), and a file of root's no one else may touch. */
const shared = mkdtempSync(join(tmpdir(), 'pxoci-shared-'));
chmodSync(shared, 0o1777);
const secretDir = mkdtempSync(join(tmpdir(), 'pxoci-secret-'));
const secret = join(secretDir, 'secret');
const SECRET = 'root only\n';
writeFileSync(secret, SECRET, { mode: 0o600 });

const record = (id: string) => JSON.parse(readFileSync(join(node.stateRoot, id, 'state.json'), 'utf8')) as Record<string, unknown>;
const startTime = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[19]!;

async function runningContainer(id: string): Promise<ReturnType<typeof createWithPipes>> {
  const c = createWithPipes(node, id, bundle);
  if ((await c.exited) !== 0) throw new Error(`create ${id}: ${c.err()}`);
  const s = pxoci(node, ['start', id]);
  if (s.status !== 0) throw new Error(`start ${id}: ${s.stderr}`);
  return c;
}

t.test('create --pid-file: a link planted at its temporary name is not written through', async (t) => {
  const pidFile = join(shared, 'ctr.pid');
  const child = spawn(pxociBin, ['--root', node.stateRoot, 'create', '--bundle', bundle, '--pid-file', pidFile, 'pidfile'], {
    env: node.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const c = captureStdio(child);
  // The node process pxoci becomes keeps the front's pid: the name is known as soon as it runs.
  const tmp = join(shared, `.ctr.pid.tmp.${child.pid}`);
  symlinkSync(secret, tmp);
  const code = await c.exited;
  t.equal(readFileSync(secret, 'utf8'), SECRET, "root's file is untouched");
  t.equal(code, 1, 'create fails');
  t.equal(c.err(), `cannot write ${pidFile}: cannot create its temporary file ${tmp}: it already exists\n`, 'and says why');
  t.ok(lstatSync(tmp).isSymbolicLink(), 'the planted link is left as it was');
  t.notOk(existsSync(pidFile), 'no pid-file');
  pxoci(node, ['delete', '--force', 'pidfile']);
  t.same(leftovers(node, 'pidfile'), {}, 'the failed create left nothing');
  await c.closed;
});

t.test('create --pid-file: a link at the pid-file name itself is replaced, never followed; the file is digits only', async (t) => {
  const pidFile = join(shared, 'replaced.pid');
  symlinkSync(secret, pidFile);
  const c = createWithPipes(node, 'pidlink', bundle, ['--pid-file', pidFile]);
  t.equal(await c.exited, 0, c.err());
  t.equal(readFileSync(secret, 'utf8'), SECRET, "root's file is untouched");
  t.ok(lstatSync(pidFile).isFile(), 'the pid-file is a file of its own now');
  t.match(readFileSync(pidFile, 'utf8'), /^\d+$/, 'digits, no newline (containerd: strconv.Atoi)');
  t.equal(pxoci(node, ['delete', '--force', 'pidlink']).status, 0);
  await c.closed;
});

t.test('exec --detach --pid-file: a link planted at its temporary name is not written through', async (t) => {
  const c = await runningContainer('execpid');
  const pidFile = join(shared, 'exec.pid');
  const child = spawn(pxociBin, ['--root', node.stateRoot, 'exec', '--detach', '--pid-file', pidFile, 'execpid', 'sleep', '100'], {
    env: node.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const e = captureStdio(child);
  const tmp = join(shared, `.exec.pid.tmp.${child.pid}`);
  symlinkSync(secret, tmp);
  const code = await e.exited;
  t.equal(readFileSync(secret, 'utf8'), SECRET, "root's file is untouched");
  t.equal(code, 1, 'exec fails');
  t.equal(e.err(), `cannot write ${pidFile}: cannot create its temporary file ${tmp}: it already exists\n`);
  t.equal(pxoci(node, ['delete', '--force', 'execpid']).status, 0);
  await c.closed;
});

t.test('--log: a link or a hard link at the log path is not written through; new directories are made 0700', async (t) => {
  const link = join(shared, 'symlinked.log');
  symlinkSync(secret, link);
  const hard = join(secretDir, 'hardlinked.log');
  linkSync(secret, hard);
  for (const log of [link, hard]) {
    const r = pxoci(node, ['--log', log, '--log-format', 'json', 'state', 'nope']);
    t.equal(r.status, 1);
    t.equal(readFileSync(secret, 'utf8'), SECRET, `${log}: root's file is untouched`);
    t.match(r.stderr, /^container does not exist\npxoci: no --log record: cannot write \S+: (it is a symbolic link|it has 2 names \(hard links\))\n$/, 'the error, and why the log has no record');
  }
  const fresh = join(shared, 'made', 'by', 'pxoci.log');
  t.equal(pxoci(node, ['--log', fresh, '--log-format', 'json', 'state', 'nope']).status, 1);
  t.match(JSON.parse(readFileSync(fresh, 'utf8')), { level: 'error', msg: 'container does not exist' });
  t.equal((statSync(join(shared, 'made')).mode & 0o777).toString(8), '700');
  t.equal((statSync(fresh).mode & 0o777).toString(8), '600');
});

/**
 * A host process in a cgroup of its own (so that even a pxoci that signalled "every process in its
 * cgroup" could reach nothing else), noting each SIGUSR1 it gets.
 */
function decoy() {
  const notes = join(work, `decoy-${Date.now()}`);
  writeFileSync(notes, '');
  const proc = spawn('sh', ['-c', `trap 'echo USR1 >> ${notes}' USR1; while :; do sleep 0.05; done`], { stdio: 'ignore' });
  const cgroups: string[] = [];
  for (const hierarchy of ['pids', 'freezer', 'memory', 'cpu', 'unified', '']) {
    const base = join('/sys/fs/cgroup', hierarchy);
    if (!existsSync(join(base, 'cgroup.procs'))) continue;
    const dir = join(base, `pxoci-test-decoy-${proc.pid}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'cgroup.procs'), String(proc.pid));
    cgroups.push(dir);
  }
  return {
    pid: proc.pid!,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    notes: () => readFileSync(notes, 'utf8'),
    async end() {
      proc.kill('SIGKILL');
      await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.on('exit', r)));
      for (const dir of cgroups) {
        for (let i = 0; i < 50 && existsSync(dir); i++) {
          try {
            rmdirSync(dir);
          } catch {
            await sleep(20);
          }
        }
      }
    },
  };
}

t.test('a record naming a host process: kill, kill --all, ps and delete --force touch only the CT', async (t) => {
  const id = 'forged';
  const c = await runningContainer(id);
  const genuine = record(id);
  const d = decoy();
  t.teardown(() => d.end());
  const start = startTime(d.pid);
  // As a hijacked init.sock would have had it recorded: pid, init and keeper all the host process.
  const path = join(node.stateRoot, id, 'state.json');
  writeFileSync(path, JSON.stringify({ ...genuine, pid: d.pid, pidStart: start, initPid: d.pid, keeperPid: d.pid, keeperStart: start }, null, 2));

  const ps = pxoci(node, ['ps', '--format', 'json', id]);
  t.equal(ps.status, 0, ps.stderr);
  const listed = JSON.parse(ps.stdout) as number[];
  t.notOk(listed.includes(d.pid), 'ps does not list the host process');
  t.ok(listed.includes(genuine.pid as number), "ps lists the CT's own processes");

  const kill = pxoci(node, ['kill', id, 'USR1']);
  t.equal(kill.status, 1, 'kill refuses');
  t.equal(kill.stderr, `container process ${d.pid} is not in CT ${genuine.vmid}: not signalling it\n`);
  const all = pxoci(node, ['kill', '--all', id, 'USR1']);
  t.equal(all.status, 0, all.stderr);
  await sleep(300);
  t.equal(d.notes(), '', 'the host process got no signal');

  const del = pxoci(node, ['delete', '--force', id]);
  t.equal(del.status, 0, del.stderr);
  await sleep(300);
  t.ok(d.alive(), 'delete --force did not kill the host process');
  t.equal(d.notes(), '');
  t.same(leftovers(node, id), {}, 'the CT itself is gone, and everything else of it');
  await c.closed;
});

/** The test runner hooks every child's Node (NODE_OPTIONS, even when told otherwise), and its hooks
 *  write into its own root-owned files: a process of another user starts with only what pxoci reads. */
function cleanEnv(): string[] {
  return ['env', '-i', `PATH=${process.env.PATH}`, `PXOCI_PVE_ROOT=${node.env.PXOCI_PVE_ROOT}`, `PXOCI_PVE_NODE=${node.env.PXOCI_PVE_NODE}`];
}

/** pxoci as a local user without rights, the way it runs for everyone (the native front, then Node). */
function asNobody(args: string[]) {
  return spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...cleanEnv(), pxociBin, '--root', node.stateRoot, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** runc's answers in the same situation: a root-owned state dir laid out like runc's own, in a
 *  directory as open to others as the simulated node's root is. */
function runcAsNobody(args: string[]) {
  const parent = join(work, 'runc-parent');
  const root = join(parent, 'state');
  if (!existsSync(root)) {
    chmodSync(work, 0o711);
    mkdirSync(join(root, 'mine'), { recursive: true, mode: 0o711 });
    chmodSync(root, 0o711);
    writeFileSync(join(root, 'mine', 'state.json'), '{}', { mode: 0o600 });
  }
  chmodSync(parent, statSync(node.root).mode & 0o777);
  const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '/usr/sbin/runc', '--root', root, ...args], { encoding: 'utf8' });
  const errors = [...r.stderr.matchAll(/level=error msg="([^"]*)"/g)].map((m) => m[1]!);
  return { status: r.status, message: (errors.at(-1) ?? r.stderr).replace(root, node.stateRoot) };
}

t.test('a non-root caller on root\'s state dir: a permission error naming the path, never "does not exist" or success', async (t) => {
  const id = 'mine';
  const c = await runningContainer(id);
  const vmid = record(id).vmid as number;
  const rootMode = statSync(node.root).mode & 0o777;
  t.teardown(() => chmodSync(node.root, rootMode));
  const stateJson = join(node.stateRoot, id, 'state.json');
  // The state root's parent closed to others (mkdtemp's 0700), then passable (0711, as pxoci makes its own).
  const cases: Array<[number, Array<[string[], string]>]> = [
    [
      0o700,
      [
        [['state', id], `lstat ${join(node.stateRoot, id)}: permission denied`],
        [['delete', id], `lstat ${join(node.stateRoot, id)}: permission denied`],
        [['delete', '--force', id], `lstat ${join(node.stateRoot, id)}: permission denied`],
        [['list'], `open ${node.stateRoot}: permission denied`],
        [['kill', id, 'KILL'], `lstat ${join(node.stateRoot, id)}: permission denied`],
        [['ps', id], `lstat ${join(node.stateRoot, id)}: permission denied`],
      ],
    ],
    [
      0o711,
      [
        [['state', id], `open ${stateJson}: permission denied`],
        [['delete', id], `open ${stateJson}: permission denied`],
        [['delete', '--force', id], `open ${stateJson}: permission denied`],
        [['delete', '--force', 'no-such-id'], `open ${join(node.stateRoot, '@owner-key')}: permission denied`],
        [['list'], `open ${node.stateRoot}: permission denied`],
        [['kill', id, 'KILL'], `open ${stateJson}: permission denied`],
        [['ps', id], `open ${stateJson}: permission denied`],
      ],
    ],
  ];
  for (const [mode, calls] of cases) {
    chmodSync(node.root, mode);
    for (const [args, message] of calls) {
      const r = asNobody(args);
      t.equal(r.status, 1, `${mode.toString(8)} ${args.join(' ')}: exit 1`);
      t.equal(r.stderr, message + '\n', `${mode.toString(8)} ${args.join(' ')}: one line naming the path`);
      // runc has nothing to prove, so for an id without a state dir it looks for nothing; behind a
      // closed directory it says it cannot make its root.
      if (mode === 0o711 && !args.includes('no-such-id')) {
        const runc = runcAsNobody(args);
        t.same(runc, { status: 1, message }, `${mode.toString(8)} ${args.join(' ')}: runc says the same`);
      }
    }
  }
  chmodSync(node.root, rootMode);
  t.same(ctConfigs(node), [vmid], 'the CT is still there');
  t.equal(JSON.parse(pxoci(node, ['state', id]).stdout).status, 'running', 'and its container runs');
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
  t.same(leftovers(node, id), {});
  await c.closed;
});

t.test("ct-setup (root, in a CT's mount namespace) acts only on the init of the container whose runtime dir it is given", async (t) => {
  const id = 'ctsetup';
  const c = await runningContainer(id);
  const { initPid } = record(id) as { initPid: number };
  const ctDir = join(node.stateRoot, id, 'ct');
  const helper = join(dist, 'pxoci-helper');
  const setup = (pid: number, dir: string) => spawnSync(helper, ['ct-setup', '--pid', String(pid), '--ct-dir', dir], { input: '', encoding: 'utf8' });
  // A host process (a pid a dead CT's init may have left to anyone): its mount namespace is the host's.
  const host = spawn('sleep', ['30'], { stdio: 'ignore' });
  const other = mkdtempSync(join(tmpdir(), 'pxoci-other-ct-'));
  for (const [pid, dir, what] of [
    [host.pid!, ctDir, 'a host process'],
    [initPid, other, "this CT's init, but another container's runtime dir"],
  ] as const) {
    const r = setup(pid, dir);
    t.equal(r.status, 1, `${what}: refused`);
    t.equal(r.stderr, `pid ${pid} is not the init of the container whose runtime dir is ${dir}\n`, `${what}: says why`);
  }
  host.kill();
  t.equal(setup(initPid, ctDir).status, 0, "the container's own init and runtime dir: accepted");
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
  await c.closed;
});
