// What the runtime-agnostic conformance files share: which runtime runs (RUNTIME=/usr/sbin/runc, or
// pxoci on a simulated PVE node), its state root, running a container the way an engine does, and
// `check`: each check names the rows of src/oci/fields.ts it proves, and a complete run of a file
// writes conformance/results/<runtime>[.<suite>].json, from which scripts/gen-fields-doc.mjs fills the
// pxoci/runc columns of docs/fields.md.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureStdio, makeBundle, pxociBin, startSimNode, type BundleOptions, type SimNode } from '../test/helpers/env.js';
import { sleep } from '../test/helpers/wait.js';
import { FIELDS } from '../src/oci/fields.js';
import { DIFFERENCES, type DifferenceName } from './differences.js';

export const runtimePath = process.env.RUNTIME;
export const runtimeName = runtimePath ? basename(runtimePath) : 'pxoci';
export const isPxoci = !runtimePath;
export const work = mkdtempSync(join(tmpdir(), `pxoci-conformance-${runtimeName}-`));
// A user-namespaced container's root (host uid 100000) must be able to reach its bundle.
chmodSync(work, 0o755);
export const stateRoot = join(work, 'state');
let node: SimNode | undefined;
export let env: NodeJS.ProcessEnv = process.env;
if (isPxoci) {
  node = startSimNode('conformance');
  env = node.env;
  t.teardown(() => node!.down());
}
// After the node's teardown (registered first), which unmounts what its CTs had mounted from here.
t.teardown(() => rmSync(work, { recursive: true, force: true }));

export const argv0 = runtimePath ? [runtimePath] : [pxociBin];
export const runtimeArgs = (args: string[]) => [...argv0.slice(1), '--root', stateRoot, ...args];

export function runtime(args: string[]) {
  return spawnSync(argv0[0]!, runtimeArgs(args), { env, encoding: 'utf8', timeout: 60_000 });
}

/** `create` with its stdio on our pipes (the container inherits them, as under conmon). */
export function createOnPipes(id: string, bundle: string) {
  return captureStdio(spawn(argv0[0]!, runtimeArgs(['create', '--bundle', bundle, id]), { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export async function waitStopped(id: string): Promise<void> {
  for (let i = 0; i < 100 && JSON.parse(runtime(['state', id]).stdout || '{"status":"stopped"}').status !== 'stopped'; i++) await sleep(50);
}

export interface Run {
  stdout: string;
  stderr: string;
  createError?: string;
}

let counter = 0;
/** create + start, wait for the process to end, delete; returns its output. */
export async function runInside(o: BundleOptions & { prepare?: (bundle: string) => void }): Promise<Run> {
  const id = `conf-${runtimeName}-${++counter}`;
  const bundle = makeBundle(work, id, o);
  o.prepare?.(bundle);
  const c = createOnPipes(id, bundle);
  const code = await c.exited;
  if (code !== 0) {
    await sleep(50);
    runtime(['delete', '--force', id]);
    return { stdout: c.out(), stderr: c.err(), createError: c.err().trim() || `create exited ${code}` };
  }
  const s = runtime(['start', id]);
  if (s.status !== 0) throw new Error(`start: ${s.stderr}`);
  await Promise.race([c.closed, sleep(30_000)]);
  await waitStopped(id);
  runtime(['delete', '--force', id]);
  return { stdout: c.out(), stderr: c.err() };
}

/** Files of a user-namespaced container belong to its mapped ids (PVE's pct create chowns them too). */
export function chownTree(path: string, id: number) {
  lchownSync(path, id, id);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory() || readlinkSafe(path)) return;
  for (const e of readdirSync(path)) chownTree(join(path, e), id);
}

function readlinkSafe(p: string) {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

// ---- results per field row ----------------------------------------------------------------------

type Outcome = { result: 'pass' | 'rejected' | 'difference' | 'fail'; difference?: DifferenceName; checks: string[] };
const outcomes = new Map<string, Outcome>();
const rows = new Set(FIELDS.map((f) => f.path));
const rank = { pass: 0, rejected: 1, difference: 2, fail: 3 } as const;
let checksDefined = 0;
let checksRun = 0;

function record(fields: string[], name: string, result: Outcome['result'], difference?: DifferenceName) {
  for (const field of fields) {
    const o = outcomes.get(field) ?? { result: 'pass', checks: [] };
    o.checks.push(name);
    if (rank[result] > rank[o.result]) Object.assign(o, { result, difference: result === 'difference' ? difference : undefined });
    if (result === 'fail') delete o.difference;
    outcomes.set(field, o);
  }
}

export interface Check {
  /** This runtime cannot show what the field asks for, for a documented reason: the check goes on to
   *  assert what the container does see instead. */
  differ(name: DifferenceName): void;
  /** This runtime refuses the field, as src/oci/fields.ts documents: create must fail naming it. */
  rejects(run: Run, field: string): void;
}

/** One check: runs `fn`, then records pass, fail or the named difference for every row in `fields`. */
export function check(name: string, fields: string[], fn: (t: Test, c: Check) => Promise<void>) {
  for (const f of fields) if (!rows.has(f)) throw new Error(`check "${name}": "${f}" is not a row of src/oci/fields.ts`);
  checksDefined++;
  t.test(name, async (t) => {
    checksRun++;
    let difference: DifferenceName | undefined;
    let rejected = false;
    const c: Check = {
      differ(d) {
        if (!DIFFERENCES[d].runtimes.includes(runtimeName)) throw new Error(`difference ${d} is not documented for ${runtimeName}`);
        difference = d;
        t.comment(`documented difference for ${runtimeName}: ${d}`);
      },
      rejects(run, field) {
        rejected = true;
        t.ok(run.createError?.startsWith(`${field}`), `create fails naming ${field}: ${run.createError ?? 'it succeeded'}`);
      },
    };
    try {
      await fn(t, c);
    } catch (e) {
      record(fields, name, 'fail');
      throw e;
    }
    record(fields, name, !t.passing() ? 'fail' : difference ? 'difference' : rejected ? 'rejected' : 'pass', difference);
  });
}

/** Which file's results these are: oci.test.ts writes <runtime>.json, <suite>.test.ts <runtime>.<suite>.json. */
const file = basename(process.argv[1] ?? '', '.ts').replace(/\.test$/, '');
const suite = file === 'oci' || file === '' ? '' : `.${file}`;

t.teardown(() => {
  // A filtered run (--grep, --only) would record a part as the whole. docs/fields.md shows PVE 9's
  // results: a run on PVE 8 (PXOCI_TEST_PVE=8) must pass, and records nothing.
  if (checksRun !== checksDefined || (isPxoci && process.env.PXOCI_TEST_PVE === '8')) return;
  const fields: Record<string, Outcome> = {};
  for (const key of [...outcomes.keys()].sort()) fields[key] = outcomes.get(key)!;
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${runtimeName}${suite}.json`), JSON.stringify({ runtime: runtimeName, fields }, null, 2) + '\n');
});

