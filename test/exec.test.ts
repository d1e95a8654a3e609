// pxoci exec as engines call it: foreground (stdio + exit code), detached with a pid-file, and
// --preserve-fds (the caller's fds 3… reach the exec'd process, nothing else does).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { sleep } from './helpers/wait.js';

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
