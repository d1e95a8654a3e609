// The state dir and logs: readable by root only; a corrupt or unreadable record gives a clear error
// naming the file (never a stack trace), and delete --force clears it together with its CT.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs, leftovers } from './helpers/node-checks.js';

const node: SimNode = startSimNode('statefiles');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-statefiles-'));
const bundle = makeBundle(work, 'sleeper', { args: ['sleep', '1000'] });
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

t.test('state dirs 0711 (a user-namespaced CT\'s root passes through, nobody else lists), records and the owner key 0600; a log file pxoci makes is 0600, a caller-made one keeps its mode', async (t) => {
  const log = join(work, 'logs', 'new.log');
  const callers = join(work, 'callers.log');
  writeFileSync(callers, '');
  chmodSync(callers, 0o644);
  const c = createWithPipes(node, 'perms', bundle, []);
  t.equal(await c.exited, 0, c.err());
  t.equal(mode(node.stateRoot), '711');
  t.equal(mode(join(node.stateRoot, 'perms')), '711');
  t.equal(mode(join(node.stateRoot, 'perms', 'state.json')), '600');
  t.equal(mode(join(node.stateRoot, '@owner-key')), '600', 'the owner key');
  for (const file of [log, callers]) t.equal(pxoci(node, ['--log', file, 'state', 'nope']).status, 1);
  t.equal(mode(join(work, 'logs')), '700', 'the log directory pxoci made');
  t.equal(mode(log), '600', 'the log file pxoci made');
  t.equal(mode(callers), '644', "the caller's own log file is not chmodded (runc does not either)");
  t.equal(pxoci(node, ['delete', '--force', 'perms']).status, 0);
  await c.closed;
});

t.test('an owner key pxoci did not make (a link, a file others could have written) is refused, never used or written through', async (t) => {
  const root = join(node.root, 'planted-key-state');
  mkdirSync(root, { mode: 0o711 });
  const key = join(root, '@owner-key');
  const target = join(work, 'not-a-key');
  writeFileSync(target, 'a'.repeat(64) + '\n', { mode: 0o600 });
  const cases: Array<[string, () => void, string]> = [
    ['a link', () => symlinkSync(target, key), `open ${key}: too many levels of symbolic links`],
    ['readable by others', () => writeFileSync(key, 'a'.repeat(64) + '\n', { mode: 0o644 }), `${key} is not an owner key pxoci made (a 0600 file of uid 0 holding 64 hex digits): refusing to use it`],
    ['not a key', () => writeFileSync(key, 'x\n', { mode: 0o600 }), `${key} is not an owner key pxoci made (a 0600 file of uid 0 holding 64 hex digits): refusing to use it`],
  ];
  for (const [name, plant, message] of cases) {
    rmSync(key, { force: true });
    plant();
    const r = spawnSync(pxociBin, ['--root', root, 'create', '--bundle', bundle, 'k1'], { env: node.env, encoding: 'utf8' });
    t.equal(r.status, 1, `${name}: create fails`);
    t.equal(r.stderr, message + '\n', `${name}: and says why`);
    t.same(ctConfigs(node), [], `${name}: no CT config`);
    t.notOk(existsSync(join(root, 'k1')), `${name}: no state entry`);
  }
  t.equal(readFileSync(target, 'utf8'), 'a'.repeat(64) + '\n', 'the link target is untouched');
});

const corruptions: Array<[string, (path: string, id: string) => void, RegExp]> = [
  ['garbage', (p) => writeFileSync(p, '\0\0 not json'), /^state of container (\S+) is corrupt \(.*\/state\.json\): delete --force removes it\n$/],
  ['truncated', (p) => writeFileSync(p, '{"id": "x", "bund'), /is corrupt \(.*\/state\.json\)/],
  ['null', (p) => writeFileSync(p, 'null'), /is corrupt \(.*\/state\.json\)/],
  ['VMID as a string', (p, id) => writeFileSync(p, JSON.stringify({ id, bundle: '/b', rootfs: '/b/r', created: 'x', owner: '', vmid: '100; x' })), /is corrupt/],
  ['a directory', (p) => {
    rmSync(p);
    mkdirSync(p);
  }, /^cannot read state of container \S+ \(.*\/state\.json\): EISDIR; delete --force removes it\n$/],
  ['missing', (p) => rmSync(p), /^container \S+ has no state \(.*\/state\.json\): its create did not finish; delete --force removes it\n$/],
];

for (const [name, corrupt, message] of corruptions) {
  t.test(`state.json ${name}: clear errors, list goes on, delete --force removes record and CT`, async (t) => {
    const id = `corrupt-${name.replace(/\W+/g, '-')}`;
    const c = createWithPipes(node, id, bundle);
    t.equal(await c.exited, 0, c.err());
    t.equal(ctConfigs(node).length, 1);
    corrupt(join(node.stateRoot, id, 'state.json'), id);
    for (const cmd of ['state', 'start', 'kill', 'delete', 'pause', 'exec']) {
      const r = pxoci(node, cmd === 'exec' ? [cmd, id, 'true'] : [cmd, id]);
      t.equal(r.status, 1, `${cmd}: exit 1`);
      t.match(r.stderr, message, `${cmd}: names the file`);
      t.notMatch(r.stderr, /\n\s+at /, `${cmd}: no stack trace`);
    }
    const list = pxoci(node, ['list', '--format', 'json']);
    t.equal(list.status, 0, 'list does not fail on it');
    const d = pxoci(node, ['delete', '--force', id]);
    t.equal(d.status, 0, d.stderr);
    t.same(leftovers(node, id), {}, 'the CT (proved ours by its marker) and the record are gone');
    await c.closed;
  });
}

t.test("a user-namespaced container its mapped root could not reach: create says which directory, and leaves nothing", async (t) => {
  const userns = (s: Record<string, any>) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  const open = mkdtempSync(join(tmpdir(), 'pxoci-open-'));
  chmodSync(open, 0o755);
  const closed = join(open, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  const cases: Array<[string, string, RegExp]> = [
    // work/ is mkdtemp's 0700: the bundle inside it is out of reach
    [makeBundle(work, 'userns-closed-bundle', { args: ['true'], patch: userns }), join(open, 'state'), /cannot reach its rootfs \S+: \S+pxoci-statefiles-\S+ is not searchable by it/],
    [makeBundle(open, 'userns-open-bundle', { args: ['true'], patch: userns }), join(closed, 'state'), /cannot reach its runtime dir \S+: \S+\/closed is not searchable by it \(chmod o\+x \S+\/closed\)/],
  ];
  for (const [b, root, message] of cases) {
    const r = spawnSync(pxociBin, ['--root', root, 'create', '--bundle', b, 'u1'], { env: node.env, encoding: 'utf8' });
    t.equal(r.status, 1);
    t.match(r.stderr, /^a user-namespaced container's root \(host uid 100000\) /);
    t.match(r.stderr, message);
    t.same(ctConfigs(node), [], 'no CT config');
    t.same(existsSync(join(root, 'u1')), false, 'no state entry');
  }
  rmSync(open, { recursive: true, force: true });
});
