// Where a running CT's limits are written, on a pure cgroup v2 node (every PVE 8/9 node) and on a
// hybrid one (v1 controllers, as our test hosts): a tree of plain files stands in for the kernel's
// (empty where written: a cgroup file takes a whole value per write, a plain file keeps a longer tail).
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CgroupWriteError, setCtLimits } from '../src/pve/ct-cgroups.js';

const work = mkdtempSync(join(tmpdir(), 'pxoci-ct-cgroups-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

t.test("pure cgroup v2, as every PVE 8/9 node: the v2 files of the CT's lxc/<vmid>", async (t) => {
  const ct = 'lxc/100';
  const root = tree('v2', {
    'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc',
    [`${ct}/pids.max`]: '',
    [`${ct}/memory.low`]: '',
    [`${ct}/cpuset.cpus`]: '',
    [`${ct}/io.weight`]: '',
    [`${ct}/memory.max`]: '',
    [`${ct}/memory.swap.max`]: '',
    [`${ct}/ns/pids.max`]: 'max',
  });
  const unapplied = setCtLimits(ct, [['pids.max', '9'], ['memory.low', '104857600'], ['cpuset.cpus', '1'], ['io.weight', 'default 4950'], ['memory.max', '314572800'], ['memory.swap.max', '104857600']], root);
  t.same(unapplied, [], 'every controller is on cgroup v2');
  t.same(
    ['pids.max', 'memory.low', 'cpuset.cpus', 'io.weight', 'memory.max', 'memory.swap.max'].map((f) => read(root, `${ct}/${f}`)),
    ['9', '104857600', '1', 'default 4950', '314572800', '104857600'],
    'v2 names and values, swap on its own',
  );
  t.equal(read(root, `${ct}/ns/pids.max`), 'max', "the container's own cgroup is left: the limit is above it");
  let refused: unknown;
  try {
    setCtLimits(ct, [['pids.max', '5'], ['memory.bogus', '1']], root);
  } catch (e) {
    refused = e;
  }
  t.ok(refused instanceof CgroupWriteError && refused.index === 1, 'the refused setting is named by its index');
  t.match((refused as Error).message, /^the kernel refused memory\.bogus = 1 \(.*: ENOENT\)$/);
});

t.test('hybrid layout (v1 controllers): the v1 file that does the same, and what v1 lacks named', async (t) => {
  const ct = 'pvesim-x/lxc/100';
  const root = tree('hybrid', {
    'unified/cgroup.controllers': '',
    'memory/memory.memsw.limit_in_bytes': '',
    [`memory/${ct}/memory.limit_in_bytes`]: '',
    [`memory/${ct}/memory.memsw.limit_in_bytes`]: '',
    [`memory/${ct}/memory.soft_limit_in_bytes`]: '',
    [`cpu/${ct}/cpu.cfs_quota_us`]: '',
    [`cpu/${ct}/cpu.cfs_period_us`]: '',
    [`cpu/${ct}/cpu.shares`]: '',
    [`pids/${ct}/pids.max`]: '',
    [`cpuset/${ct}/cpuset.cpus`]: '',
    [`cpuset/${ct}/ns/cpuset.cpus`]: '',
  });
  const unapplied = setCtLimits(
    ct,
    [['memory.max', '314572800'], ['memory.high', '1'], ['memory.swap.max', '104857600'], ['memory.low', 'max'], ['cpu.max', '50000 100000'], ['cpu.weight', '39'], ['pids.max', '9'], ['cpuset.cpus', '1'], ['io.weight', 'default 4950']],
    root,
  );
  t.same(unapplied, ['memory.high', 'io.weight'], 'no v1 file does what these do');
  t.equal(read(root, `memory/${ct}/memory.limit_in_bytes`), '314572800');
  t.equal(read(root, `memory/${ct}/memory.memsw.limit_in_bytes`), String(314572800 + 104857600), 'v1 has memory + swap');
  t.equal(read(root, `memory/${ct}/memory.soft_limit_in_bytes`), '-1');
  t.same([read(root, `cpu/${ct}/cpu.cfs_quota_us`), read(root, `cpu/${ct}/cpu.cfs_period_us`)], ['50000', '100000']);
  t.equal(read(root, `cpu/${ct}/cpu.shares`), String(Math.round(2 + (38 * 262142) / 9999)), "weight 39 as v1 shares (the inverse of runc's conversion)");
  t.equal(read(root, `pids/${ct}/pids.max`), '9');
  t.equal(read(root, `cpuset/${ct}/ns/cpuset.cpus`), '1', 'a v1 cpuset does not follow its parent: the container gets it too');
  setCtLimits(ct, [['memory.swap.max', '0']], root);
  t.equal(read(root, `memory/${ct}/memory.memsw.limit_in_bytes`), '314572800', 'swap alone is added to the limit the CT has');
});
