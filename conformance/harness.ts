// What the runtime-agnostic conformance files share: which runtime runs (RUNTIME=/usr/sbin/runc, or
// pxoci on a simulated PVE node), its state root, and running a container the way an engine does.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { makeBundle, pxociJs, startSimNode, type BundleOptions, type SimNode } from '../test/helpers/env.js';

export const runtimePath = process.env.RUNTIME;
export const runtimeName = runtimePath ? basename(runtimePath) : 'pxoci';
export const work = mkdtempSync(join(tmpdir(), `pxoci-conformance-${runtimeName}-`));
const stateRoot = join(work, 'state');
let node: SimNode | undefined;
export let env: NodeJS.ProcessEnv = process.env;
if (!runtimePath) {
  node = startSimNode('conformance');
  env = node.env;
  t.teardown(() => node!.down());
}
export const argv0 = runtimePath ? [runtimePath] : [process.execPath, pxociJs];
export const runtimeArgs = (args: string[]) => [...argv0.slice(1), '--root', stateRoot, ...args];

export function runtime(args: string[]) {
  return spawnSync(argv0[0]!, runtimeArgs(args), { env, encoding: 'utf8', timeout: 60_000 });
}
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `create` with its stdio on our pipes (the container inherits them, as under conmon). */
export function createOnPipes(id: string, bundle: string) {
  const child = spawn(argv0[0]!, runtimeArgs(['create', '--bundle', bundle, id]), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const closed = new Promise<void>((r) => {
    let n = 0;
    const one = () => ++n === 2 && r();
    child.stdout.on('close', one);
    child.stderr.on('close', one);
  });
  return { exited, closed, out: () => stdout, err: () => stderr };
}

export async function waitStopped(id: string): Promise<void> {
  for (let i = 0; i < 100 && JSON.parse(runtime(['state', id]).stdout || '{"status":"stopped"}').status !== 'stopped'; i++) await sleep(50);
}

let counter = 0;
/** create + start, wait for the process to end, delete; returns its output. */
export async function runInside(o: BundleOptions): Promise<{ stdout: string; stderr: string; createError?: string }> {
  const id = `conf-${runtimeName}-${++counter}`;
  const bundle = makeBundle(work, id, o);
  const c = createOnPipes(id, bundle);
  const code = await c.exited;
  if (code !== 0) {
    await sleep(50);
    return { stdout: c.out(), stderr: c.err(), createError: c.err().trim() };
  }
  const s = runtime(['start', id]);
  if (s.status !== 0) throw new Error(`start: ${s.stderr}`);
  await Promise.race([c.closed, sleep(30_000)]);
  await waitStopped(id);
  runtime(['delete', '--force', id]);
  return { stdout: c.out(), stderr: c.err() };
}
