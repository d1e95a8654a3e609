// Crash safety: pxoci SIGKILLed at every step of `create` and `delete` (the test-only hook
// PXOCI_TEST_CRASH_AT, src/runtime/crash.ts). Afterwards `state` answers clearly, `delete --force`
// recovers, and nothing is left: no CT config, no state entry, no mount, no keeper, no held lock.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREATE_STEPS, DELETE_STEPS } from '../src/runtime/crash.js';
import { createWithPipes, makeBundle, pxoci, pxociBin, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs, leftovers } from './helpers/node-checks.js';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const node: SimNode = startSimNode('crash');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-crash-'));
const bundle = makeBundle(work, 'sleeper', { args: ['sleep', '1000'] });

/** Runs pxoci with the crash hook set; resolves with how it ended (its helpers may live on). */
function crashed(step: string, args: string[]): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const child = spawn(pxociBin, ['--root', node.stateRoot, ...args], {
    env: { ...node.env, PXOCI_TEST_CRASH_AT: step },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** `state` after a crash: valid JSON, or one plain line saying what is wrong and what to do. */
function checkStateAnswer(t: T, id: string) {
  const s = pxoci(node, ['state', id]);
  if (s.status === 0) {
    const st = JSON.parse(s.stdout) as { id: string; status: string };
    t.equal(st.id, id, 'state names the container');
    t.ok(['created', 'running', 'stopped'].includes(st.status), `state says ${st.status}`);
  } else {
    t.equal(s.status, 1, 'state exits 1');
    t.match(s.stderr, /^container \S+ (has no state|is corrupt).*delete --force removes it\n$|^container does not exist\n$/, 'state says why');
  }
  t.notMatch(s.stderr, /\n\s+at /, 'no stack trace');
}

async function recoverAndCheck(t: T, id: string) {
  checkStateAnswer(t, id);
  t.equal(pxoci(node, ['create', '--bundle', bundle, id]).stderr, 'container with given ID already exists\n', 'the id stays taken until recovered');
  const d = pxoci(node, ['delete', '--force', id]);
  t.equal(d.status, 0, `delete --force recovers: ${d.stderr}`);
  t.same(leftovers(node, id), {}, 'nothing is left behind');
  t.equal(pxoci(node, ['state', id]).stderr, 'container does not exist\n');
}

t.test('kill -9 during create, at every step', async (t) => {
  for (const step of CREATE_STEPS) {
    await t.test(step, async (t) => {
      const id = `c-${step}`;
      const r = await crashed(`create:${step}`, ['create', '--bundle', bundle, id]);
      t.equal(r.signal, 'SIGKILL', `create reached ${step} and died there (${r.stderr})`);
      await recoverAndCheck(t, id);
    });
  }
});

t.test('kill -9 during delete, at every step', async (t) => {
  for (const step of DELETE_STEPS) {
    await t.test(step, async (t) => {
      const id = `d-${step}`;
      const c = createWithPipes(node, id, bundle);
      t.equal(await c.exited, 0, c.err());
      t.equal(pxoci(node, ['start', id]).status, 0);
      const r = await crashed(`delete:${step}`, ['delete', '--force', id]);
      t.equal(r.signal, 'SIGKILL', `delete reached ${step} and died there (${r.stderr})`);
      await recoverAndCheck(t, id);
      await c.closed;
    });
  }
});

t.test('after all that, the lowest VMID is free again and a container runs normally', async (t) => {
  const c = createWithPipes(node, 'after', bundle);
  t.equal(await c.exited, 0, c.err());
  t.same(ctConfigs(node), [100], 'VMID 100 was reused: no crash leaked it');
  t.equal(pxoci(node, ['start', 'after']).status, 0);
  t.equal(pxoci(node, ['delete', '--force', 'after']).status, 0);
  t.same(leftovers(node, 'after'), {});
});

t.test('the hook is inert unless it names a step exactly', async (t) => {
  const r = await crashed('create:no-such-step', ['create', '--bundle', bundle, 'inert']);
  t.equal(r.code, 0, r.stderr);
  t.equal(pxoci(node, ['delete', '--force', 'inert']).status, 0);
  t.same(leftovers(node, 'inert'), {});
});

t.test("a config write killed before its rename: delete removes the dead writer's tmp file, not a live one's", async (t) => {
  const id = 'c-tmpfile';
  const c = createWithPipes(node, id, bundle);
  t.equal(await c.exited, 0, c.err());
  const { vmid } = JSON.parse(readFileSync(join(node.stateRoot, id, 'state.json'), 'utf8')) as { vmid: number };
  const confDir = join(node.root, 'etc/pve/nodes', node.env.PXOCI_PVE_NODE!, 'lxc');
  const deadPid = spawnSync('true').pid;
  const dead = join(confDir, `.${vmid}.conf.tmp.${deadPid}`);
  const live = join(confDir, `.${vmid}.conf.tmp.${process.pid}`);
  const otherVmid = join(confDir, `.${vmid + 1}.conf.tmp.${deadPid}`);
  for (const f of [dead, live, otherVmid]) writeFileSync(f, 'half a config');
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
  t.notOk(existsSync(dead), "the dead writer's tmp file is gone");
  t.ok(existsSync(live), "a live writer's tmp file stays");
  t.ok(existsSync(otherVmid), "another VMID's tmp file stays");
  for (const f of [live, otherVmid]) rmSync(f);
  await c.closed;
});
