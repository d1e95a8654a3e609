// LOAD TEST (sized for CI on 2 cores): 50 containers through create + start + delete, all at once,
// on one simulated node. No timing assertions: it checks that under contention every VMID is
// unique, no state is lost or corrupt, no lock stays held and nothing is left afterwards.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs, heldLocks, mountsUnder, processesMentioning } from './helpers/node-checks.js';

const CONTAINERS = 50;

const node: SimNode = startSimNode('load');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-load-'));
const bundle = makeBundle(work, 'one-shot', { args: ['sh', '-c', 'exit 3'] });

/** pxoci as a separate process without blocking the event loop, so the 50 really overlap. */
function pxociAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(pxociBin, ['--root', node.stateRoot, ...args], { env: node.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

t.test(`${CONTAINERS} concurrent create + start + delete`, async (t) => {
  const failures: string[] = [];
  const vmids: number[] = [];
  const lifecycle = async (i: number) => {
    const id = `load-${i}`;
    const c = createWithPipes(node, id, bundle);
    if ((await c.exited) !== 0) return failures.push(`create ${id}: ${c.err()}`);
    vmids.push((JSON.parse(readFileSync(join(node.stateRoot, id, 'state.json'), 'utf8')) as { vmid: number }).vmid);
    const s = await pxociAsync(['state', id]);
    if (s.code !== 0 || JSON.parse(s.stdout).status !== 'created') return failures.push(`state ${id}: ${s.stderr}${s.stdout}`);
    const st = await pxociAsync(['start', id]);
    if (st.code !== 0) return failures.push(`start ${id}: ${st.stderr}`);
    await c.closed; // the keeper left: the container process has ended
    const after = await pxociAsync(['state', id]);
    if (after.code !== 0 || JSON.parse(after.stdout).status !== 'stopped') return failures.push(`state after exit ${id}: ${after.stderr}${after.stdout}`);
    const d = await pxociAsync(['delete', id]);
    if (d.code !== 0) return failures.push(`delete ${id}: ${d.stderr}`);
    return undefined;
  };
  const all = Promise.all(Array.from({ length: CONTAINERS }, (_, i) => lifecycle(i)));
  // Meanwhile `list` reads records as they are written: every one it returns must be whole.
  let lists = 0;
  const watcher = (async () => {
    for (let done = false; !done; ) {
      done = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
      const l = await pxociAsync(['list', '--format', 'json']);
      if (l.code !== 0) failures.push(`list: ${l.stderr}`);
      for (const s of JSON.parse(l.stdout || '[]') as Array<{ id: string; status: string }>) {
        if (!/^load-\d+$/.test(s.id) || !['created', 'running', 'stopped'].includes(s.status)) failures.push(`list entry ${JSON.stringify(s)}`);
      }
      lists++;
    }
  })();
  await all;
  await watcher;
  t.same(failures, [], 'every create, state, start, delete and list succeeded');
  t.equal(vmids.length, CONTAINERS);
  t.equal(new Set(vmids).size, CONTAINERS, 'every container had its own VMID');
  t.ok(lists > 0, `list ran ${lists} times during the load`);
  t.same(ctConfigs(node), [], 'no CT config left');
  // The root keeps its owner key (docs/DESIGN.md, Ownership); no container's entry stays beside it.
  t.same(readdirSync(node.stateRoot).filter((e) => e !== '@owner-key'), [], 'no state entry left');
  t.same(heldLocks(node), [], 'no config lock held');
  t.same(mountsUnder(node.root), [], 'no mount left');
  t.same(processesMentioning(node.stateRoot + '/'), [], 'no keeper or other helper left');
  t.equal(pxoci(node, ['list', '--quiet']).stdout, '');
});
