// pxoci exec as engines call it: foreground (stdio + exit code), detached with a pid-file, and
// --preserve-fds (the caller's fds 3… reach the exec'd process, nothing else does); runc's exec flags
// and terminal side by side with runc itself; the exec's spec file (args, env) private and gone after.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleRecv, createWithPipes, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { sleep, waitUntil } from './helpers/wait.js';

const node: SimNode = startSimNode('exec');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-exec-'));

/** Runs pxoci with extra fds: `fds[i]` becomes the child's fd 3+i. */
function pxociWithFds(args: string[], fds: number[]) {
  return spawnSync(pxociBin, ['--root', node.stateRoot, ...args], {
    env: node.env,
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const id = 'exec-target';
t.before(async () => {
  const bundle = makeBundle(work, id, { args: ['sleep', '300'] });
  const c = createWithPipes(node, id, bundle);
  if ((await c.exited) !== 0) throw new Error(`create: ${c.err()}`);
  const s = pxoci(node, ['start', id]);
  if (s.status !== 0) throw new Error(`start: ${s.stderr}`);
});
t.teardown(() => {
  pxoci(node, ['delete', '--force', id]);
});

t.test('foreground exec: output on our stdout, its exit code as ours', async (t) => {
  const r = pxoci(node, ['exec', id, 'sh', '-c', 'echo in-ct; exit 5']);
  t.equal(r.stdout, 'in-ct\n');
  t.equal(r.status, 5);
});

t.test('--preserve-fds 2: fds 3 and 4 reach the process, fd 5 does not', async (t) => {
  const three = join(work, 'three');
  const four = join(work, 'four');
  const five = join(work, 'five');
  const fds = [three, four, five].map((f) => openSync(f, 'w'));
  const r = pxociWithFds(
    ['exec', '--preserve-fds', '2', id, 'sh', '-c', 'echo to-3 >&3; echo to-4 >&4; (echo to-5 >&5) 2>/dev/null || echo no-5'],
    fds,
  );
  fds.forEach((fd) => closeSync(fd));
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'no-5\n');
  t.equal(readFileSync(three, 'utf8'), 'to-3\n');
  t.equal(readFileSync(four, 'utf8'), 'to-4\n');
  t.equal(readFileSync(five, 'utf8'), '');
});

t.test('detached exec with --preserve-fds and a pid-file', async (t) => {
  const out = join(work, 'detached-out');
  const pidFile = join(work, 'exec.pid');
  const fd = openSync(out, 'w');
  const r = pxociWithFds(['exec', '--detach', '--pid-file', pidFile, '--preserve-fds', '1', id, 'sh', '-c', 'sleep 0.2; echo late >&3'], [fd]);
  closeSync(fd);
  t.equal(r.status, 0, r.stderr);
  t.match(readFileSync(pidFile, 'utf8'), /^\d+$/, 'digits only, no newline');
  for (let i = 0; i < 100 && readFileSync(out, 'utf8') === ''; i++) await sleep(50);
  t.equal(readFileSync(out, 'utf8'), 'late\n');
});

t.test('--preserve-fds rejects a bad count', async (t) => {
  const r = pxoci(node, ['exec', '--preserve-fds', '-1', id, 'true']);
  t.equal(r.status, 1);
  t.match(r.stderr, /--preserve-fds: invalid value -1/);
});

// runc beside pxoci: the same bundle (busybox, `sleep 300`) as a runc container, for side-by-side answers.
const RUNC = '/usr/sbin/runc';
const runcRoot = join(work, 'runc-state');
const runcId = 'exec-runc';
t.before(() => {
  const bundle = makeBundle(work, runcId, { args: ['sleep', '300'] });
  const c = spawnSync(RUNC, ['--root', runcRoot, 'create', '--bundle', bundle, runcId], { stdio: 'ignore', timeout: 60_000 });
  if (c.status !== 0) throw new Error('runc create failed');
  if (spawnSync(RUNC, ['--root', runcRoot, 'start', runcId]).status !== 0) throw new Error('runc start failed');
});
t.teardown(() => {
  spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', runcId]);
});
const runc = (args: string[]) => spawnSync(RUNC, ['--root', runcRoot, ...args], { encoding: 'utf8', timeout: 60_000 });

/** exec's arguments with the container id in the place of `ID`, run by pxoci and by runc. */
function sideBySide(args: string[]) {
  const ours = pxoci(node, ['exec', ...args.map((a) => (a === 'ID' ? id : a))]);
  const theirs = runc(['exec', ...args.map((a) => (a === 'ID' ? runcId : a))]);
  return { ours, theirs };
}

t.test("runc's exec flags: --env/-e (repeatable, the id after them), --cwd, --user, --additional-gids, --no-new-privs, as runc", async (t) => {
  const cases = [
    ['--env', 'A=1', 'ID', 'sh', '-c', 'echo "$A"'],
    ['-e', 'A=1', '-e', 'B=2', '-e', 'A=3', 'ID', 'sh', '-c', 'echo "$A$B"; env | grep -c "^A="'],
    ['--env=A=x y', 'ID', 'sh', '-c', 'echo "$A"'],
    ['--cwd', '/tmp', '-u', '1000:1000', '-g', '5', '-g', '6', 'ID', 'sh', '-c', 'pwd; id'],
    ['--additional-gids', '7', 'ID', 'id', '-G'],
    ['-u', '7', 'ID', 'id'],
    ['--no-new-privs', 'ID', 'grep', 'NoNewPrivs', '/proc/self/status'],
    ['ID', 'sh', '-c', 'exit 9'],
  ];
  for (const args of cases) {
    const { ours, theirs } = sideBySide(args);
    t.equal(theirs.status, ours.status, `${args.join(' ')}: runc's exit code (${theirs.stderr.trim()})`);
    t.equal(ours.stdout, theirs.stdout, `${args.join(' ')}: runc's output (${ours.stderr.trim()})`);
  }
});

t.test('flags whose effect a CT cannot give are refused by name in one line, like bad values', async (t) => {
  const refused: Array<[string[], RegExp]> = [
    [['--process-label', 'system_u:system_r:foo_t', id, 'true'], /^--process-label: PVE hosts run AppArmor, not SELinux\n$/],
    [['--cgroup', 'sub', id, 'true'], /^--cgroup sub: pxoci cannot place an exec'd process in a sub-cgroup/],
    [['--apparmor', 'other-profile', id, 'true'], /^--apparmor other-profile: a process exec'd into a PVE CT runs under the CT's own AppArmor profile/],
    [['--cap', 'CAP_SYS_MODULE', id, 'true'], /^--cap: capability number 16 is not in the container's bounding set/],
    [['--cap', 'CAP_NOPE', id, 'true'], /^--cap CAP_NOPE: unknown capability\n$/],
    [['-u', 'nobody', id, 'true'], /^--user nobody: must be <uid>\[:<gid>\]/],
    [['-g', 'x', id, 'true'], /^--additional-gids x: must be a gid/],
    [['-e', 'NOVALUE', id, 'true'], /^--env NOVALUE: must be NAME=value\n$/],
    [['--cwd', 'rel', id, 'true'], /^--cwd rel: must be an absolute path\n$/],
  ];
  for (const [args, message] of refused) {
    const r = pxoci(node, ['exec', ...args]);
    t.equal(r.status, 1, `${args[0]}: exit 1`);
    t.match(r.stderr, message, args.join(' '));
    t.equal(r.stderr.split('\n').length, 2, `${args[0]}: one line`);
  }
  const allowed = pxoci(node, ['exec', '--cap', 'CAP_SYS_ADMIN', id, 'true']);
  t.equal(allowed.status, 0, `a capability the CT has is fine: ${allowed.stderr}`);
});

t.test('--ignore-paused: the exec waits in the frozen CT and runs on resume, as with runc', async (t) => {
  t.equal(pxoci(node, ['pause', id]).status, 0);
  const refused = pxoci(node, ['exec', id, 'true']);
  t.equal(refused.status, 1);
  t.equal(refused.stderr, 'cannot exec in a paused container (use --ignore-paused to override)\n', "runc's text");
  const late = spawn(pxociBin, ['--root', node.stateRoot, 'exec', '--ignore-paused', id, 'echo', 'after-resume'], { env: node.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  late.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = new Promise((r) => late.on('exit', r));
  await sleep(1500);
  t.equal(out, '', 'nothing runs while the CT is frozen');
  t.equal(pxoci(node, ['resume', id]).status, 0);
  t.equal(await code, 0);
  t.equal(out, 'after-resume\n');
});

t.test('--preserve-fds beyond what the caller passed names the missing fd (runc: "unable to stat preserved-fd")', async (t) => {
  const fd = openSync(join(work, 'only-three'), 'w');
  for (const n of ['2', '40']) {
    const r = pxociWithFds(['exec', '--preserve-fds', n, id, 'true'], [fd]);
    t.equal(r.status, 1, `--preserve-fds ${n}`);
    t.equal(r.stderr, `--preserve-fds ${n}: fd 4 is not open (the caller must pass fds 3 to ${2 + Number(n)})\n`);
  }
  closeSync(fd);
});

t.test('only stdio and the preserved fds reach the exec\'d process, whatever else the caller holds', async (t) => {
  const extra = openSync(join(work, 'not-passed'), 'w');
  // fd 3 preserved; the caller's fd 40 stays outside (Node leaves a high fd open across its spawns).
  const r = spawnSync(pxociBin, ['--root', node.stateRoot, 'exec', '--preserve-fds', '1', id, 'ls', '/proc/self/fd'], {
    env: node.env,
    stdio: ['ignore', 'pipe', 'pipe', extra, ...Array<'ignore'>(36).fill('ignore'), extra],
    encoding: 'utf8',
  });
  closeSync(extra);
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n').map(Number).filter((n) => n !== 4).sort(), [0, 1, 2, 3], "0..3, and ls's own directory");
});

/** The engine's side of a console socket: resolves with what the process wrote to its terminal. */
async function consoleListener(socket: string) {
  const recv = spawn(consoleRecv(), [socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  recv.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<string>((r) => recv.on('exit', () => r(out)));
  await waitUntil(() => existsSync(socket));
  return done;
}

t.test('exec -t with a console socket: the output arrives, the pty is the controlling terminal of the asked size, as with runc', async (t) => {
  // The pause lets the reader drain the pty before the hangup, which may discard unread output.
  const proc = {
    terminal: true,
    consoleSize: { height: 33, width: 101 },
    user: { uid: 0, gid: 0 },
    args: ['sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-on-the-tty; stty size; echo "$(cut -d" " -f6,7 /proc/$$/stat) $$"; sleep 0.3'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
  };
  const processFile = join(work, 'tty-process.json');
  writeFileSync(processFile, JSON.stringify(proc));
  const outputs: string[] = [];
  for (const [runtime, args] of [
    ['pxoci', (socket: string) => pxoci(node, ['exec', '-d', '--console-socket', socket, '-p', processFile, id])],
    ['runc', (socket: string) => runc(['exec', '-d', '--console-socket', socket, '-p', processFile, runcId])],
  ] as const) {
    const socket = join(work, `${runtime}-tty.sock`);
    const received = consoleListener(socket);
    const r = args(await Promise.resolve(socket));
    t.equal(r.status, 0, `${runtime}: ${r.stderr}`);
    outputs.push((await received).replace(/\/dev\/pts\/\d+/, '/dev/pts/N'));
  }
  const [ours, theirs] = outputs;
  t.match(ours, /^\/dev\/pts\/N\r\nall-on-the-tty\r\n33 101\r\n/, 'a tty name, stdio on it, the consoleSize; lines end \\r\\n');
  const [, session, ttyNr, pid] = /\r\n(\d+) (\d+) (\d+)\r\n$/.exec(ours!) ?? [];
  t.ok(session && session === pid && ttyNr !== '0', `the shell leads its session and has the pty as controlling terminal (${session} ${ttyNr} ${pid})`);
  const tail = /\r\n\d+ \d+ \d+\r\n$/;
  t.equal(ours!.replace(tail, ''), theirs!.replace(tail, ''), "runc's output");
});

t.test('exec -t the way runc checks it: a console socket only for a detached terminal', async (t) => {
  const r = pxoci(node, ['exec', '--console-socket', join(work, 'x.sock'), id, 'true']);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'cannot use console socket if runc will not detach or allocate tty\n');
  t.equal(runc(['exec', '--console-socket', join(work, 'x.sock'), runcId, 'true']).status, 255, 'runc refuses it too');
  const d = pxoci(node, ['exec', '-d', '-t', id, 'true']);
  t.equal(d.stderr, 'cannot allocate tty if runc will detach without setting console socket\n');
});

const execFiles = (ctDir: string) => readdirSync(ctDir).filter((f) => f.startsWith('exec-'));

/** A detached exec as an engine runs it, stdio not on our pipes (the process would hold them open). */
function execDetached(root: string, args: string[]) {
  const errFile = join(work, `detached-${Date.now()}.stderr`);
  const errFd = openSync(errFile, 'w');
  const r = spawnSync(pxociBin, ['--root', root, 'exec', '-d', ...args], { env: node.env, stdio: ['ignore', 'ignore', errFd], timeout: 60_000 });
  closeSync(errFd);
  return { status: r.status, stderr: readFileSync(errFile, 'utf8') };
}

t.test('the exec spec (args, env) is 0600, out of reach of other users while the process runs, and gone after', async (t) => {
  const ctDir = join(node.stateRoot, id, 'ct');
  const fg = pxoci(node, ['exec', '-e', 'DB_PASSWORD=hunter2', id, 'true']);
  t.equal(fg.status, 0, fg.stderr);
  t.same(execFiles(ctDir), [], 'a foreground exec leaves no exec-* file');
  const bg = execDetached(node.stateRoot, ['-e', 'DB_PASSWORD=hunter2', id, 'sleep', '2']);
  t.equal(bg.status, 0, bg.stderr);
  const [file] = execFiles(ctDir);
  t.ok(file, 'the detached exec has its spec while it runs');
  const path = join(ctDir, file!);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(statSync(path).uid, 0, "a privileged CT's root is the host's");
  const nobody = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'cat', path], { encoding: 'utf8' });
  t.not(nobody.status, 0, 'another user cannot read it');
  t.notMatch(nobody.stdout, /hunter2/);
  await waitUntil(() => execFiles(ctDir).length === 0, 20_000);
  t.pass('removed once the detached process ended');
});

t.test("a user-namespaced CT: its mapped root owns the 0600 spec and can read it (the exec runs)", async (t) => {
  const open = mkdtempSync(join(tmpdir(), 'pxoci-exec-userns-'));
  chmodSync(open, 0o755);
  const root = join(open, 'state');
  const bundle = makeBundle(open, 'userns', {
    args: ['sleep', '300'],
    patch: (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
  });
  const run = (args: string[]) => spawnSync(pxociBin, ['--root', root, ...args], { env: node.env, encoding: 'utf8', timeout: 120_000 });
  const c = spawn(pxociBin, ['--root', root, 'create', '--bundle', bundle, 'u1'], { env: node.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  t.equal(await new Promise((r) => c.on('exit', r)), 0, err);
  t.teardown(() => run(['delete', '--force', 'u1']));
  t.equal(run(['start', 'u1']).status, 0);
  const fg = run(['exec', 'u1', 'sh', '-c', 'echo in-userns; id -u']);
  t.equal(fg.stdout, 'in-userns\n0\n', fg.stderr);
  const bg = execDetached(root, ['u1', 'sleep', '2']);
  t.equal(bg.status, 0, bg.stderr);
  const ctDir = join(root, 'u1', 'ct');
  const [file] = execFiles(ctDir);
  const st = statSync(join(ctDir, file!));
  t.same([st.uid, st.gid, st.mode & 0o777], [100000, 100000, 0o600], "owned by the CT's root, 0600");
  await waitUntil(() => execFiles(ctDir).length === 0, 20_000);
});
