// OCI hooks (config.md "POSIX-platform Hooks"), run by pxoci itself on the node:
//   prestart, createRuntime  create, on the host, once the container process waits for start
//   createContainer          create, in the CT's namespaces except the mount one (pxoci-helper nsexec)
//   startContainer           start, inside the CT: pxoci's init runs them right before exec
//   poststart                start, on the host, after the process was released
//   poststop                 delete (and a failed create), on the host, after the CT is gone
// Each gets the container's state JSON on stdin. Not PVE's hookscript: that runs from PVE's own start
// task with PVE's arguments, cannot receive the state, and could not fail `pxoci create`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hookState, type HookKind, type Hook, type Hooks, type HookState } from '../oci/hooks.js';
import { RuntimeError } from './errors.js';
import { logWarning } from './log.js';
import { helperPath } from '../lib/native-paths.js';
import { sleep } from '../lib/sleep.js';
import { isSameProcessAlive } from './proc.js';
import { atomicWrite } from '../lib/atomic-files.js';
import type { ContainerRecord } from './record.js';

const HOOKS_FILE = 'hooks.json';

/** Start and delete need the hooks of config.json as create saw it (later edits must not count):
 *  kept in the state dir, not in ct/, which the CT can read. */
export function saveHooks(stateDir: string, hooks: Hooks | undefined): void {
  if (hooks && Object.values(hooks).some((h) => h?.length)) atomicWrite(join(stateDir, HOOKS_FILE), JSON.stringify(hooks), 0o600);
}

export function loadHooks(stateDir: string): Hooks {
  try {
    return JSON.parse(readFileSync(join(stateDir, HOOKS_FILE), 'utf8')) as Hooks;
  } catch {
    return {};
  }
}

async function runOne(kind: HookKind, i: number, hook: Hook, state: HookState, nsPid?: number): Promise<void> {
  // Loaded on first use, as in runtime/node-driver.ts: start, state and kill without hooks never spawn.
  const { spawn } = await import('node:child_process');
  const argv = hook.args?.length ? hook.args : [hook.path];
  const [file, args] = nsPid ? [helperPath('pxoci-helper'), ['nsexec', '--pid', String(nsPid), '--', hook.path, ...argv]] : [hook.path, argv.slice(1)];
  // Like runc: a hook without env inherits the runtime's environment.
  const child = spawn(file, args, { argv0: nsPid ? undefined : argv[0], env: hook.env ? Object.fromEntries(hook.env.map((e) => splitEnv(e))) : process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.on('error', () => undefined); // a hook need not read its stdin
  child.stdin.end(JSON.stringify(state));
  const what = `${kind} hook #${i} (${hook.path})`;
  return new Promise((resolve, reject) => {
    // A hook's own children may hold its output open: a timeout does not wait for them.
    const timer = hook.timeout
      ? setTimeout(() => {
          child.kill('SIGKILL');
          child.stdout.destroy();
          child.stderr.destroy();
          reject(new RuntimeError(`${what}: ran past its timeout of ${hook.timeout} s`));
        }, hook.timeout * 1000)
      : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RuntimeError(`${what}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const how = signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new RuntimeError(`${what}: ${how}, stdout: ${out.trim()}, stderr: ${err.trim()}`));
    });
  });
}

function splitEnv(e: string): [string, string] {
  const eq = e.indexOf('=');
  return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
}

/** Runs the hooks of one kind in order; the first failure ends the run with its error. */
export async function runHooks(kind: HookKind, hooks: Hooks, state: HookState, nsPid?: number): Promise<void> {
  for (const [i, hook] of (hooks[kind] ?? []).entries()) await runOne(kind, i, hook, state, nsPid);
}

/** The create-time hooks, once the container process waits for start: prestart and createRuntime
 *  on the host, then createContainer in the CT's namespaces with the pid the container sees. */
export async function runCreateHooks(hooks: Hooks, rec: ContainerRecord, hostPid: number): Promise<void> {
  const onHost = hookState(rec, 'creating', hostPid);
  await runHooks('prestart', hooks, onHost);
  await runHooks('createRuntime', hooks, onHost);
  if (hooks.createContainer?.length) await runHooks('createContainer', hooks, hookState(rec, 'creating', pidInContainer(hostPid)), hostPid);
}

export const startResultFile = (stateDir: string) => join(stateDir, 'start-result');

/** After start released the process: the startContainer hooks' outcome (reported by pxoci's init
 *  through the keeper; a failure has ended the process), then poststart, whose failure kills the
 *  process (runc, runtime-spec 1.2). Either failure fails start. */
export async function afterStart(stateDir: string, rec: ContainerRecord): Promise<void> {
  const hooks = loadHooks(stateDir);
  if (hooks.startContainer?.length) {
    const result = await startContainerResult(stateDir, rec);
    if (result !== 'ok') throw new RuntimeError(result);
  }
  if (!hooks.poststart?.length) return;
  try {
    await runHooks('poststart', hooks, hookState(rec, 'running', rec.pid));
  } catch (e) {
    try {
      if (isSameProcessAlive(rec.pid, rec.pidStart)) process.kill(rec.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    throw e;
  }
}

async function startContainerResult(stateDir: string, rec: ContainerRecord): Promise<string> {
  const read = () => {
    try {
      return readFileSync(startResultFile(stateDir), 'utf8').trim();
    } catch {
      return undefined; // not yet
    }
  };
  for (;;) {
    const result = read();
    if (result !== undefined) return result;
    // The keeper writes the result before it can learn of the process's end: no result and no
    // process means it died some other way.
    if (!isSameProcessAlive(rec.pid, rec.pidStart)) {
      await sleep(50);
      return read() ?? 'the container process ended before its startContainer hooks had run';
    }
    await sleep(20);
  }
}

/** poststop: the spec wants a warning, never an error, and every hook run. */
export async function runPoststopHooks(hooks: Hooks, rec: ContainerRecord): Promise<void> {
  for (const [i, hook] of (hooks.poststop ?? []).entries()) {
    try {
      await runOne('poststop', i, hook, hookState(rec, 'stopped'));
    } catch (e) {
      const msg = `warning: ${(e as Error).message}`;
      logWarning(msg);
      process.stderr.write(msg + '\n');
    }
  }
}

/** The pid of a host process as its own (innermost) pid namespace sees it. */
export function pidInContainer(hostPid: number): number {
  const status = readFileSync(`/proc/${hostPid}/status`, 'utf8');
  const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
  return Number(nspid?.at(-1) ?? hostPid);
}
