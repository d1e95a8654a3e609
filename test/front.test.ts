// The native front (dist/pxoci): it answers `state` and `--version` itself, exactly as the Node side
// would, and hands every call it is not certain of to the Node side. A lone copy of the front, with no
// pxoci.js beside it, shows which calls it answered: any hand-off fails there.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, pxociBin, pxociJs, startSimNode, type SimNode } from './helpers/env.js';
import { nativeProcFacts } from '../src/runtime/proc.js';
import { StateStore, type ContainerRecord } from '../src/runtime/state.js';

const node: SimNode = startSimNode('front');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-front-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const lone = join(work, 'lone-pxoci');
copyFileSync(pxociBin, lone);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

/** With the node's state root unless the call names one. */
const run = (argv0: string[], args: string[]) => {
  const root = args.some((a) => a.startsWith('--root')) ? [] : ['--root', node.stateRoot];
  return spawnSync(argv0[0]!, [...argv0.slice(1), ...root, ...args], { env: node.env, encoding: 'utf8' });
};
const front = (args: string[]) => run([pxociBin], args);
const loneFront = (args: string[]) => run([lone], args);
const nodeSide = (args: string[]) => run([process.execPath, pxociJs], args);

/** The lone front answered this call itself, with what the Node side says. */
function answeredByFront(t: Test, args: string[], what: string) {
  const byNode = nodeSide(args);
  const byLone = loneFront(args);
  t.equal(byNode.status, 0, `${what}: the Node side answers (${byNode.stderr})`);
  t.equal(byLone.status, 0, `${what}: the front answers without Node (${byLone.stderr})`);
  t.equal(byLone.stdout, byNode.stdout, `${what}: the same bytes as the Node side`);
}

/** The front left this call to the Node side: the lone copy cannot answer, the real one answers as Node. */
function handedOff(t: Test, args: string[], what: string) {
  const byLone = loneFront(args);
  t.not(byLone.status, 0, `${what}: the lone front did not answer it`);
  t.match(byLone.stderr, /Cannot find module|pxoci\.js/, `${what}: it handed the call to Node`);
  const byFront = front(args);
  const byNode = nodeSide(args);
  t.same([byFront.status, byFront.stdout, byFront.stderr], [byNode.status, byNode.stdout, byNode.stderr], `${what}: the real front gives Node's answer`);
}

t.test('state in every status: the front answers with the Node side\'s bytes', async (t) => {
  const bundle = makeBundle(work, 'sleeper', {
    args: ['sleep', '1000'],
    patch: (spec) => (spec.annotations = { 'org.example/quote': 'a "quoted" \\ value, été', empty: '' }),
  });
  const c = createWithPipes(node, 'f1', bundle);
  t.equal(await c.exited, 0, c.err());
  answeredByFront(t, ['state', 'f1'], 'created');
  t.equal(JSON.parse(loneFront(['state', 'f1']).stdout).status, 'created');
  t.equal(pxoci(node, ['start', 'f1']).status, 0);
  answeredByFront(t, ['state', 'f1'], 'running');
  t.equal(JSON.parse(loneFront(['state', 'f1']).stdout).status, 'running');
  t.equal(pxoci(node, ['pause', 'f1']).status, 0);
  answeredByFront(t, ['state', 'f1'], 'paused');
  t.equal(JSON.parse(loneFront(['state', 'f1']).stdout).status, 'paused');
  t.equal(pxoci(node, ['resume', 'f1']).status, 0);
  t.equal(pxoci(node, ['kill', 'f1', 'KILL']).status, 0);
  for (let i = 0; i < 200 && JSON.parse(loneFront(['state', 'f1']).stdout).status !== 'stopped'; i++) await sleep(20);
  answeredByFront(t, ['state', 'f1'], 'stopped');
  const stopped = JSON.parse(loneFront(['state', 'f1']).stdout);
  t.match(stopped, { status: 'stopped', pid: 0, annotations: { 'org.example/quote': 'a "quoted" \\ value, été' } });
  answeredByFront(t, [`--root=${node.stateRoot}`, '--log-format', 'json', '--systemd-cgroup', 'state', 'f1'], 'global options in both forms');
  answeredByFront(t, ['--rootless=false', '--log', join(work, 'quiet.log'), '--root', node.stateRoot, 'state', 'f1'], 'global options, the other forms');
  t.notOk(existsSync(join(work, 'quiet.log')), 'a successful state writes no log');
  t.equal(mode(join(node.stateRoot, 'f1', 'state.view')), '600', 'state.view is root\'s only, like state.json');
  t.equal(pxoci(node, ['delete', 'f1']).status, 0);
  await c.closed;
});

t.test('--version: the front prints the Node side\'s text', async (t) => {
  for (const args of [['--version'], ['-v'], ['--log-format', 'json', '--version']]) {
    const byLone = spawnSync(lone, args, { encoding: 'utf8' });
    const byNode = spawnSync(process.execPath, [pxociJs, ...args], { encoding: 'utf8' });
    t.equal(byLone.status, 0);
    t.equal(byLone.stdout, byNode.stdout, args.join(' '));
    t.match(byLone.stdout, /^pxoci version \S+\ncommit: \S+\nspec: 1\.2\.0\n$/);
  }
});

t.test('what the front is not certain of goes to the Node side', async (t) => {
  const bundle = makeBundle(work, 'sleeper2', { args: ['sleep', '1000'] });
  const c = createWithPipes(node, 'f2', bundle);
  t.equal(await c.exited, 0, c.err());
  const log = join(work, 'debug.log');
  handedOff(t, ['--debug', '--log', log, 'state', 'f2'], '--debug (Node logs the call)');
  t.match(readFileSync(log, 'utf8'), /level=debug msg="pxoci .*state f2"/, 'the debug record was written');
  handedOff(t, ['state', 'f2', 'extra'], 'an extra argument');
  handedOff(t, ['state', '--help'], 'help');
  handedOff(t, ['--log-format', 'json', '--log-format', 'text', 'state', 'f2'], 'a repeated option');
  handedOff(t, ['--log-format', 'yaml', 'state', 'f2'], 'a value not among the choices');
  handedOff(t, ['--systemd-cgroup=true', 'state', 'f2'], 'a switch with a value');
  handedOff(t, ['--frobnicate', 'state', 'f2'], 'an unknown option');
  handedOff(t, ['state', 'no-such'], 'an unknown container');
  handedOff(t, ['state', '../f2'], 'an id that is not a plain name');
  handedOff(t, ['kill', 'f2', '0'], 'any other command');

  const json = join(node.stateRoot, 'f2', 'state.json');
  const view = join(node.stateRoot, 'f2', 'state.view');
  // A record changed behind pxoci's back (here only its mtime): the view no longer speaks for it.
  const later = new Date(Date.now() + 5000);
  utimesSync(json, later, later);
  handedOff(t, ['state', 'f2'], 'a view older than state.json');
  t.equal(JSON.parse(front(['state', 'f2']).stdout).status, 'created', 'Node still reads the record');
  // A start rewrites both: the front answers again.
  t.equal(pxoci(node, ['start', 'f2']).status, 0);
  answeredByFront(t, ['state', 'f2'], 'after the next save');
  for (const [what, damage] of [
    ['a view with a foreign header', () => writeFileSync(view, 'something else\n{}\0{}\0{}\0{}\0')],
    ['a view cut short', () => writeFileSync(view, readFileSync(view).subarray(0, 200))],
    ['no view', () => rmSync(view)],
  ] as const) {
    damage();
    handedOff(t, ['state', 'f2'], what);
  }
  writeFileSync(json, 'not json');
  handedOff(t, ['state', 'f2'], 'a corrupt state.json');
  t.match(front(['state', 'f2']).stderr, /^state of container f2 is corrupt/);
  t.equal(pxoci(node, ['delete', '--force', 'f2']).status, 0);
  await c.closed;
});

t.test('container ids: the front answers only for ids the Node side takes', async (t) => {
  // Records need no CT here: this process stands in for the container process (status created).
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const record = (id: string): ContainerRecord => ({
    id,
    bundle: work,
    rootfs: join(work, 'rootfs'),
    created: '2024-01-01T00:00:00.000Z',
    owner: 'root',
    pid: process.pid,
    pidStart: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!,
  });
  const store = new StateStore(node.stateRoot);
  const save = (id: string) => {
    mkdirSync(join(node.stateRoot, id), { recursive: true, mode: 0o711 });
    store.save(record(id));
  };
  for (const id of ['Az09_+-.x', '...', '.x', 'x.', 'x'.repeat(255)]) {
    save(id);
    answeredByFront(t, ['state', id], `id ${JSON.stringify(id).slice(0, 40)}`);
    t.equal(JSON.parse(loneFront(['state', id]).stdout).status, 'created');
    store.remove(id);
  }

  // A view that speaks for its state.json, planted under an id Node refuses: were the front to take
  // the id, it would print the view. '.' and '..' name the state root and its parent.
  save('planted');
  const source = join(node.stateRoot, 'planted');
  const plant = (dir: string) => {
    const json = join(dir, 'state.json');
    copyFileSync(join(source, 'state.json'), json);
    const js = statSync(json, { bigint: true });
    const view = readFileSync(join(source, 'state.view'));
    const newline = view.indexOf('\n');
    const fields = view.subarray(0, newline).toString().split(' ');
    fields.splice(2, 3, String(js.ino), String(js.size), String(js.mtimeNs));
    writeFileSync(join(dir, 'state.view'), Buffer.concat([Buffer.from(fields.join(' ')), view.subarray(newline)]));
  };
  const other = join(node.stateRoot, 'planted-copy');
  mkdirSync(other);
  plant(other);
  t.equal(loneFront(['state', 'planted-copy']).status, 0, 'a planted view is answered under an id the front takes');
  rmSync(other, { recursive: true });
  for (const id of ['.', '..', 'a b', 'a:b', 'a/b', 'a\\b', 'été', 'x\ty']) {
    const dir = join(node.stateRoot, id);
    const made = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    plant(dir);
    handedOff(t, ['state', id], `id ${JSON.stringify(id)}`);
    if (made) rmSync(id.includes('/') ? join(node.stateRoot, id.split('/')[0]!) : dir, { recursive: true });
    else for (const f of ['state.json', 'state.view']) rmSync(join(dir, f));
  }
  store.remove('planted');
});

t.test('procfacts: the one reading of processes both sides use', async (t) => {
  const facts = nativeProcFacts();
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const field22 = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  t.equal(facts.startTime(process.pid), field22, 'field 22 of /proc/<pid>/stat');
  t.equal(facts.startTime(0), undefined);
  t.equal(facts.startTime(2 ** 31 - 1), undefined, 'no such process');
  t.ok(facts.sameAlive(process.pid, ''), 'alive, any start time');
  t.ok(facts.sameAlive(process.pid, field22!), 'alive, same start time');
  t.notOk(facts.sameAlive(process.pid, '1'), 'a reused pid is not the same process');
  const expected = readFileSync(`/proc/${process.pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => {
      const [, names, path] = /^\d+:([^:]*):(.*)$/.exec(line)!;
      return names === '' ? [['', path]] : names!.split(',').map((n) => [n.replace(/^name=/, ''), path]);
    });
  t.same(facts.cgroups(process.pid), expected, '/proc/<pid>/cgroup, one pair per controller');
  t.equal(facts.cgroups(2 ** 31 - 1), undefined);

  const exit = join(work, 'exit');
  const status = (pid: number, start: string, started: boolean) => facts.status(exit, pid, start, started);
  t.equal(status(process.pid, field22!, false), 'created', 'alive, not started');
  t.equal(status(process.pid, field22!, true), 'running', 'alive, started, not frozen');
  t.equal(status(process.pid, '1', true), 'stopped', 'the pid now names another process');
  t.equal(status(0, '', false), 'stopped', 'no container process recorded');
  for (const [text, stopped] of [['0\n', true], ['137', true], [' 256', true], ['', false], ['x', false]] as const) {
    writeFileSync(exit, text);
    t.equal(status(process.pid, field22!, true), stopped ? 'stopped' : 'running', `exit file ${JSON.stringify(text)}`);
  }
  t.throws(() => (facts.status as unknown as (...a: unknown[]) => unknown)(exit, 'x', '', true), /pxoci-procfacts/, 'a bad call throws');
});
