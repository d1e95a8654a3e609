// Ownership: pxoci acts only on CTs whose config carries its marker (tag, container id, and a MAC of
// the id and the CT's own VMID under its state root's key). A foreign CT behind a recorded VMID, a CT
// of another state root with the same container id, and a CT whose notes a PVE user copied our lines
// into, are never read into action, stopped or destroyed; a CT of ours whose state dir was removed is
// still ours to destroy.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, startSimNode, type SimNode } from './helpers/env.js';
import { confText, ctConfigs, leftovers, processesMentioning } from './helpers/node-checks.js';

const node: SimNode = startSimNode('ownership');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-ownership-'));
const bundle = makeBundle(work, 'sleeper', { args: ['sleep', '1000'] });
const lxcDir = join(node.root, 'etc/pve/nodes', node.env.PXOCI_PVE_NODE!, 'lxc');
/** The same node seen by a second pxoci with its own state root. */
const otherRoot: SimNode = { ...node, stateRoot: join(node.root, 'other-state') };

function recordOf(n: SimNode, id: string) {
  return JSON.parse(readFileSync(join(n.stateRoot, id, 'state.json'), 'utf8')) as { vmid: number };
}

function setRecordedVmid(n: SimNode, id: string, vmid: number) {
  const path = join(n.stateRoot, id, 'state.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), vmid }));
}

t.test('a record pointing at a foreign CT: every command refuses it, delete --force leaves it alone', async (t) => {
  const foreign = 'arch: amd64\nhostname: foreign\nmemory: 512\nostype: debian\ntags: pxoci\n#pxoci container victim\n';
  writeFileSync(join(lxcDir, '100.conf'), foreign);
  const c = createWithPipes(node, 'victim', bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(recordOf(node, 'victim').vmid, 101, 'VMID 100 is taken: ours is 101');
  setRecordedVmid(node, 'victim', 100);
  const resources = join(work, 'resources.json');
  writeFileSync(resources, '{"memory":{"limit":268435456}}');
  for (const args of [['pause', 'victim'], ['exec', 'victim', 'true'], ['update', '--resources', resources, 'victim']]) {
    const r = pxoci(node, args);
    t.equal(r.status, 1, `${args[0]} refuses`);
    t.equal(r.stderr, 'CT 100 is not a pxoci container of victim: refusing to touch it\n', `${args[0]} says why`);
  }
  const d = pxoci(node, ['delete', '--force', 'victim']);
  t.equal(d.status, 0, d.stderr);
  t.equal(confText(node, 100), foreign, 'the foreign CT (which even claims our id, without our MAC) is untouched');
  t.same(ctConfigs(node), [100], 'our own CT 101 was found by its marker and destroyed');
  await c.closed;

  // A container id that equals the foreign VMID is just an id: it names no CT of ours.
  for (const args of [['state', '100'], ['kill', '100', 'KILL'], ['pause', '100'], ['delete', '100']]) {
    t.equal(pxoci(node, args).stderr, 'container does not exist\n', `${args[0]} 100`);
  }
  t.equal(pxoci(node, ['delete', '--force', '100']).status, 0);
  const named100 = createWithPipes(node, '100', bundle);
  t.equal(await named100.exited, 0, named100.err());
  t.not(recordOf(node, '100').vmid, 100, 'container "100" gets a VMID of its own');
  t.equal(pxoci(node, ['delete', '--force', '100']).status, 0);
  t.equal(confText(node, 100), foreign, 'CT 100 is still untouched');
  t.same(ctConfigs(node), [100]);
  await named100.closed;
});

t.test('two state roots, one container id: each removes only its own CT, even from a corrupt record', async (t) => {
  const a = createWithPipes(node, 'same', bundle);
  t.equal(await a.exited, 0, a.err());
  const b = createWithPipes(otherRoot, 'same', bundle);
  t.equal(await b.exited, 0, b.err());
  const vmidA = recordOf(node, 'same').vmid;
  const vmidB = recordOf(otherRoot, 'same').vmid;
  t.not(vmidA, vmidB);
  t.match(confText(node, vmidA), /^#pxoci container same$/m);
  t.match(confText(node, vmidB), /^#pxoci container same$/m);

  writeFileSync(join(otherRoot.stateRoot, 'same', 'state.json'), '{"id": "same", "vm');
  t.match(pxoci(otherRoot, ['state', 'same']).stderr, /^state of container same is corrupt \(.*other-state\/same\/state\.json\)/);
  t.equal(pxoci(otherRoot, ['delete', '--force', 'same']).status, 0);
  t.same(ctConfigs(node), [100, vmidA], "B's CT is gone, A's is still there");
  t.equal(JSON.parse(pxoci(node, ['state', 'same']).stdout).status, 'created', 'A still has its container');
  t.equal(pxoci(node, ['delete', '--force', 'same']).status, 0);
  t.same(ctConfigs(node), [100]);
  t.same(leftovers(node, 'same'), { confs: [100] }, 'A: no state, keeper, mount or lock left');
  t.same(leftovers(otherRoot, 'same'), { confs: [100] }, 'B: no state, keeper, mount or lock left');
  await a.closed;
  await b.closed;
});

/** A CT a PVE user made, whose notes and tags carry our marker lines copied from CT `from`. */
function copyMarker(vmid: number, from: number): string {
  const marker = confText(node, from)
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .join('\n');
  const text = `${marker}\narch: amd64\nhostname: copied\nmemory: 512\nostype: debian\ntags: pxoci\n`;
  writeFileSync(join(lxcDir, `${vmid}.conf`), text);
  return text;
}

t.test('our marker lines copied into another CT prove nothing: delete --force of a corrupt record leaves that CT alone', async (t) => {
  const before = ctConfigs(node);
  const c = createWithPipes(node, 'copied', bundle);
  t.equal(await c.exited, 0, c.err());
  const vmid = recordOf(node, 'copied').vmid;
  t.match(confText(node, vmid), /^#pxoci owner [0-9a-f]{64}$/m, 'the notes carry a MAC, not a secret');
  const copy = copyMarker(190, vmid);
  writeFileSync(join(node.stateRoot, 'copied', 'state.json'), '{"id": "copied", "vm');
  const d = pxoci(node, ['delete', '--force', 'copied']);
  t.equal(d.status, 0, d.stderr);
  t.equal(confText(node, 190), copy, 'the CT with the copied lines is untouched');
  t.same(ctConfigs(node), [...before, 190], 'our own CT was found by its marker and destroyed');
  rmSync(join(lxcDir, '190.conf'));
  t.same(leftovers(node, 'copied'), before.length ? { confs: before } : {});
  await c.closed;
});

t.test('a state dir removed behind our back: delete --force removes the orphaned CT our key proves, nothing else', async (t) => {
  const before = ctConfigs(node);
  const orphan = createWithPipes(node, 'orphan', bundle);
  t.equal(await orphan.exited, 0, orphan.err());
  t.equal(pxoci(node, ['start', 'orphan']).status, 0);
  const vmid = recordOf(node, 'orphan').vmid;
  const other = createWithPipes(otherRoot, 'orphan', bundle);
  t.equal(await other.exited, 0, other.err());
  const otherVmid = recordOf(otherRoot, 'orphan').vmid;
  const copy = copyMarker(191, vmid);
  rmSync(join(node.stateRoot, 'orphan'), { recursive: true, force: true });

  t.equal(pxoci(node, ['state', 'orphan']).stderr, 'container does not exist\n');
  t.equal(pxoci(node, ['delete', 'orphan']).stderr, 'container does not exist\n', 'without --force, as runc');
  const byNumber = (a: number, b: number) => a - b;
  t.same(ctConfigs(node), [...before, vmid, otherVmid, 191].sort(byNumber), 'and nothing was touched');
  const d = pxoci(node, ['delete', '--force', 'orphan']);
  t.equal(d.status, 0, d.stderr);
  t.same(ctConfigs(node), [...before, otherVmid, 191].sort(byNumber), 'the orphan is gone');
  t.equal(confText(node, 191), copy, 'the CT with the copied lines is untouched');
  t.equal(JSON.parse(pxoci(otherRoot, ['state', 'orphan']).stdout).status, 'created', "the other state root's container of that id is intact");
  t.same(processesMentioning(join(node.stateRoot, 'orphan') + '/'), [], "the orphan's keeper is gone too");
  await orphan.closed;

  t.equal(pxoci(otherRoot, ['delete', '--force', 'orphan']).status, 0);
  rmSync(join(lxcDir, '191.conf'));
  t.same(leftovers(node, 'orphan'), before.length ? { confs: before } : {}, 'no keeper, mount or lock of either left');
  await other.closed;
});
