// pxoci's own /.pxoci in a container's root: refused by name as a mount destination, made by create
// only where it is missing, and gone again after delete (or a failed create), whatever host directory
// root.path names, even /.
import t from 'tap';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync, symlinkSync, cpSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, createWithPipes, makeBundle, pxoci, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs } from './helpers/node-checks.js';

const node: SimNode = startSimNode('reserved');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-reserved-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** A busybox root outside any bundle, as root.path may name any host directory. */
function hostRoot(name: string): string {
  const dir = join(work, name);
  cpSync(busyboxRootfs(), dir, { recursive: true, verbatimSymlinks: true });
  chmodSync(dir, 0o755);
  return dir;
}

async function create(id: string, bundle: string) {
  const c = createWithPipes(node, id, bundle);
  return { code: await c.exited, stderr: c.err() };
}

t.test('a mount at or below /.pxoci is refused at create, by name, at once, leaving nothing', async (t) => {
  for (const [i, destination] of ['/.pxoci', '/.pxoci/x'].entries()) {
    const bundle = makeBundle(work, `mnt${i}`, { patch: (s) => s.mounts.push({ destination, type: 'tmpfs', source: 'tmpfs' }) });
    const started = Date.now();
    const r = await create(`mnt${i}`, bundle);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`^mounts\\[\\d+\\]\\.destination: "${destination.replace(/\./g, '\\.')}" is pxoci's own runtime directory \\(/\\.pxoci\\), reserved in every container\\n$`));
    t.ok(Date.now() - started < 10_000, 'refused before any CT starts');
    t.notOk(existsSync(join(bundle, 'rootfs/.pxoci')), 'no mount point made');
  }
  t.same(ctConfigs(node), []);
});

t.test('the mount point create made in root.path is removed by delete; one that was there stays', async (t) => {
  for (const readonly of [false, true]) {
    const root = hostRoot(`made-${readonly}`);
    const bundle = makeBundle(work, `made-${readonly}`, { patch: (s) => (s.root = { path: root, readonly }) });
    const id = `made-${readonly}`;
    t.equal((await create(id, bundle)).code, 0);
    t.ok(lstatSync(join(root, '.pxoci')).isDirectory(), 'create made it');
    t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
    t.notOk(existsSync(join(root, '.pxoci')), `gone after delete (readonly: ${readonly})`);
  }
  const root = hostRoot('had-it');
  mkdirSync(join(root, '.pxoci'));
  const bundle = makeBundle(work, 'had-it', { patch: (s) => (s.root = { path: root }) });
  t.equal((await create('had-it', bundle)).code, 0);
  t.equal(pxoci(node, ['delete', '--force', 'had-it']).status, 0);
  t.ok(existsSync(join(root, '.pxoci')), 'not made by pxoci, so not removed');
  t.same(ctConfigs(node), []);
});

t.test('a /.pxoci that is not a directory in root.path is refused by name; what it points to is untouched', async (t) => {
  const root = hostRoot('link');
  const elsewhere = join(work, 'elsewhere');
  mkdirSync(elsewhere);
  symlinkSync(elsewhere, join(root, '.pxoci'));
  const bundle = makeBundle(work, 'link', { patch: (s) => (s.root = { path: root }) });
  const r = await create('link', bundle);
  t.equal(r.code, 1);
  t.match(r.stderr, /^root\.path: \S+\/link\/\.pxoci is not a directory, and \/\.pxoci is pxoci's reserved path\n$/);
  t.same(readdirSync(elsewhere), []);
  t.ok(lstatSync(join(root, '.pxoci')).isSymbolicLink(), 'the link is left as it was');
  t.same(ctConfigs(node), []);
  t.equal(pxoci(node, ['state', 'link']).stderr, 'container does not exist\n');
});

t.test('a create that fails after making the mount point removes it', async (t) => {
  const root = hostRoot('failed');
  const bundle = makeBundle(work, 'failed', { args: ['/no/such/program'], patch: (s) => (s.root = { path: root }) });
  const r = await create('failed', bundle);
  t.equal(r.code, 1, r.stderr);
  t.notOk(existsSync(join(root, '.pxoci')));
  t.same(ctConfigs(node), []);
});

t.test('root.path "/" leaves no /.pxoci on the host', { skip: existsSync('/.pxoci') && 'this host has a /.pxoci of its own' }, async (t) => {
  t.teardown(() => {
    // Only what this test made: a left-over empty /.pxoci is a failure above, not something to keep.
    try {
      rmdirSync('/.pxoci');
    } catch {
      // gone, as it should be
    }
  });
  const bundle = makeBundle(work, 'hostroot', { args: ['/bin/sleep', '100'], patch: (s) => (s.root = { path: '/', readonly: true }) });
  const r = await create('hostroot', bundle);
  t.equal(r.code, 0, r.stderr);
  t.ok(existsSync('/.pxoci'), 'the mount point, while the container exists');
  t.equal(pxoci(node, ['delete', '--force', 'hostroot']).status, 0);
  t.notOk(existsSync('/.pxoci'), 'gone with the container');
});

t.test("two containers on one root: deleting the first does not take the second's runtime dir away", async (t) => {
  const root = hostRoot('shared');
  for (const id of ['first', 'second']) {
    const bundle = makeBundle(work, id, { args: ['sleep', '100'], patch: (s) => (s.root = { path: root }) });
    t.equal((await create(id, bundle)).code, 0);
  }
  t.equal(pxoci(node, ['delete', '--force', 'first']).status, 0);
  t.ok(existsSync(join(root, '.pxoci')), 'kept: the second CT has it mounted');
  const r = pxoci(node, ['exec', 'second', 'ls', '/.pxoci']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^init$/m, "the second container's runtime dir is still there");
  t.equal(pxoci(node, ['delete', '--force', 'second']).status, 0);
  t.same(ctConfigs(node), []);
});
