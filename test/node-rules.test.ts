// pxoci under the rules of a PVE node that the simulator reproduces: a backup job's `lock: backup`
// (and its freeze), datacenter.cfg's next-id range, and the post-stop hook that writes a stopped CT's
// config back after the CT counts as stopped.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lxcMonitorPid, pveVersions } from '../src/pve/node-facts.js';
import { CtConfig } from '../src/oci/translate/ct-config.js';
import { translate } from '../src/oci/translate.js';
import { nodePaths } from '../src/pve/paths.js';
import { createWithPipes, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs, leftovers } from './helpers/node-checks.js';
import { waitUntil } from './helpers/wait.js';

const node: SimNode = startSimNode('noderules');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-noderules-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const paths = nodePaths(node.root, node.env.PXOCI_PVE_NODE);

function pct(...args: string[]) {
  return spawnSync(join(node.root, 'usr/sbin/pct'), args, { env: node.env, encoding: 'utf8', timeout: 60_000 });
}
function state(id: string): { status: string; pid: number } {
  return JSON.parse(pxoci(node, ['state', id]).stdout);
}
async function running(id: string): Promise<number> {
  const bundle = makeBundle(work, id, { args: ['sleep', '1000'] });
  const c = createWithPipes(node, id, bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(pxoci(node, ['start', id]).status, 0);
  return ctConfigs(node).find((vmid) => readFileSync(paths.confPath(vmid), 'utf8').includes(id))!;
}
function lxc(tool: string, vmid: number) {
  return spawnSync(paths.lxcBin(tool), ['-P', paths.lxcPath, '-n', String(vmid)], { encoding: 'utf8' });
}

t.test('delete under lock: backup waits as long as PVE waits for a lock, then says why and touches nothing', async (t) => {
  const vmid = await running('backup-held');
  t.equal(pct('set', String(vmid), '--lock', 'backup').status, 0);
  const started = Date.now();
  const d = pxoci(node, ['delete', '--force', 'backup-held']);
  const waited = Date.now() - started;
  t.equal(d.status, 1);
  t.match(d.stderr, new RegExp(`^CT ${vmid} of container backup-held is being backed up \\(lock: backup\\) and PVE refuses to stop or destroy it until the backup job ends`));
  t.equal(d.stderr.trim().split('\n').length, 1, 'one line');
  t.ok(waited >= 10_000, `waited ${waited} ms`);
  t.equal(state('backup-held').status, 'running', 'the container was left as it was');

  // A backup that ends meanwhile: delete goes on.
  const deleting = new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(pxociBin, ['--root', node.stateRoot, 'delete', '--force', 'backup-held'], { env: node.env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(state('backup-held').status, 'running', 'delete is waiting');
  t.equal(pct('unlock', String(vmid)).status, 0);
  const r = await deleting;
  t.equal(r.status, 0, r.stderr);
  t.same(leftovers(node, 'backup-held'), {});
});

t.test('kill -9 of a CT frozen by a backup job leaves the freeze to the job', async (t) => {
  const vmid = await running('backup-frozen');
  t.equal(lxc('lxc-freeze', vmid).status, 0);
  t.equal(pct('set', String(vmid), '--lock', 'backup').status, 0);
  t.equal(state('backup-frozen').status, 'paused', 'a frozen CT is paused, whoever froze it');
  t.equal(pxoci(node, ['kill', 'backup-frozen', 'KILL']).status, 0, 'the signal is sent');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(spawnSync(paths.lxcBin('lxc-info'), ['-P', paths.lxcPath, '-n', String(vmid), '-s'], { encoding: 'utf8' }).stdout.trim(), 'State:          FROZEN', 'not thawed by pxoci');
  // The job thaws the CT, writes its archive and only then unlocks: SIGKILL (pending on cgroup v1, at
  // once on v2) ends the container at the thaw, maybe before lxc-unfreeze sees it thawed, and the CT
  // stops long before the unlock. PVE's post-stop hook writes back the config it read at the stop, lock
  // included: an unlock while the hook runs would be undone (a race of PVE's own).
  lxc('lxc-unfreeze', vmid);
  await waitUntil(() => state('backup-frozen').status === 'stopped', 10_000);
  await waitUntil(() => lxcMonitorPid(paths, vmid) === undefined, 20_000);
  t.equal(pct('unlock', String(vmid)).status, 0);
  const d = pxoci(node, ['delete', 'backup-frozen']);
  t.equal(d.status, 0, d.stderr);
  t.same(leftovers(node, 'backup-frozen'), {});
});

t.test("pxoci takes VMIDs from datacenter.cfg's next-id range, and skips the VMs' ones", async (t) => {
  const cfg = join(node.root, 'etc/pve/datacenter.cfg');
  writeFileSync(cfg, 'next-id: lower=300,upper=303\n');
  writeFileSync(join(node.root, 'etc/pve/nodes', node.env.PXOCI_PVE_NODE!, 'qemu-server/300.conf'), '');
  t.teardown(() => {
    rmSync(cfg, { force: true });
    rmSync(join(node.root, 'etc/pve/nodes', node.env.PXOCI_PVE_NODE!, 'qemu-server/300.conf'), { force: true });
  });
  const bundle = makeBundle(work, 'ranged', { args: ['true'] });
  const c = createWithPipes(node, 'ranged', bundle);
  t.equal(await c.exited, 0, c.err());
  t.same(ctConfigs(node), [301], 'the first free id of the range; 300 is a VM');
  writeFileSync(cfg, 'next-id: lower=300,upper=302\n');
  const full = createWithPipes(node, 'ranged2', makeBundle(work, 'ranged2', { args: ['true'] }));
  t.equal(await full.exited, 1);
  t.equal(full.err(), 'no free VMID left in [300, 302) (datacenter.cfg next-id)\n');
  t.equal(pxoci(node, ['delete', '--force', 'ranged']).status, 0);
  t.same(ctConfigs(node), []);
});

t.test("delete returns once PVE's post-stop hook is done: the destroyed CT's config does not come back", async (t) => {
  for (let i = 0; i < 3; i++) {
    const id = `poststop-${i}`;
    const bundle = makeBundle(work, id, { args: ['sh', '-c', 'exit 0'] });
    const c = createWithPipes(node, id, bundle);
    t.equal(await c.exited, 0, c.err());
    const vmid = ctConfigs(node)[0]!;
    t.equal(pxoci(node, ['start', id]).status, 0);
    await waitUntil(() => state(id).status === 'stopped', 10_000);
    t.equal(pxoci(node, ['delete', id]).status, 0);
    t.equal(lxcMonitorPid(paths, vmid), undefined, 'the monitor (and its post-stop hook) has ended');
    await new Promise((r) => setTimeout(r, 1000));
    t.same(ctConfigs(node), [], 'no config written back');
  }
});

t.test("pxoci writes only raw keys the node's PVE release accepts, and asks for the release only then", async (t) => {
  let asked = 0;
  const pve8 = new CtConfig(() => {
    asked++;
    return 8;
  });
  pve8.raw('lxc.init.cmd', '/.pxoci/init');
  t.equal(asked, 0, 'a key every release accepts needs no look-up');
  t.throws(() => pve8.raw('lxc.init.cwd', '/'), { message: /lxc\.init\.cwd.*unable to parse config/ }, 'PVE 8.4 drops lxc.init.cwd');
  t.equal(asked, 1);
  const pve9 = new CtConfig(() => 9);
  pve9.raw('lxc.init.cwd', '/');
  t.same(pve9.lxc, [['lxc.init.cwd', '/']]);
  t.equal(pveVersions(paths)?.release, Number(process.env.PXOCI_TEST_PVE || 9), "the simulated node's release, read as on a real node");
  // What pxoci writes today is the same on both releases.
  const spec = JSON.parse(readFileSync(join(makeBundle(work, 'releases', { args: ['true'], cwd: '/tmp', env: ['A=1'] }), 'config.json'), 'utf8'));
  const ctx = { id: 'releases', bundle: work, vmid: 100, runtimeDir: '/run/x', arch: 'amd64', rootfs: '/r', helper: '/usr/lib/pxoci/pxoci-helper' };
  t.same(translate(spec, { ...ctx, pveRelease: () => 8 }).config, translate(spec, { ...ctx, pveRelease: () => 9 }).config);
});
