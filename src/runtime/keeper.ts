// Starting the keeper (native/keeper.c: a launcher on the host that puts the keeper into the CT once
// its init runs) and following the launcher's progress reports.
import type { StdioOptions } from 'node:child_process';
import { basename, dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from '../lib/native-paths.js';
import type { NamespaceJoin } from '../oci/translate/namespaces.js';
import { RuntimeError } from './errors.js';

export interface KeeperOptions {
  /** <state>/<id>/ct; the keeper writes only into its parent, through a directory fd. */
  ctDir: string;
  /** Files of the state dir the keeper writes: the container process's wait status, and how the
   *  startContainer hooks ended ("ok" or their error). */
  exitFile: string;
  startResultFile?: string;
  vmid: number;
  /** LXC's lxcpath and lxc-info, by which the launcher finds the CT's init. */
  lxcPath: string;
  lxcInfo: string;
  preserveFds: number;
  consoleSocket?: string;
  timeoutSeconds?: number;
  namespacedSysctls?: Array<[string, string]>;
  /** Namespaces the container runs in instead of the CT's own; the launcher opens them (a join
   *  without a path: its own, which are those of `pxoci create`, the host's). */
  namespaceJoins?: NamespaceJoin[];
  /** Host uid/gid of a user-namespaced CT's root: its init must reach the socket's folder and the fifo. */
  ctRoot?: { uid: number; gid: number };
}

/** /proc/<pid>/ns/ names, which the launcher also takes as the namespace types. */
const PROC_NS_NAME: Record<NamespaceJoin['type'], string> = { network: 'net', ipc: 'ipc', uts: 'uts' };

export interface Keeper {
  /** The launcher, on the host: what a rollback or recovery ends until the keeper exists. */
  launcherPid: number;
  /** Ends the launcher if it still runs (a failed create). */
  stopLauncher(): void;
  /** Tells the launcher that pct start has returned: its wait for the CT's init is timed from now,
   *  since on a loaded node the CT itself may take long to start. */
  ctStarted(): void;
  /** Resolves once the CT's init holds the stdio and the container process waits for start, with
   *  host pids: the CT's init, the container process and the keeper in the CT (the pid-file pid). */
  ready: Promise<{ initPid: number; pid: number; keeperPid: number }>;
}

export async function startKeeper(o: KeeperOptions): Promise<Keeper> {
  const nfds = 3 + o.preserveFds;
  const preserved = Array.from({ length: o.preserveFds }, (_, i) => 3 + i);
  const stateFile = (path: string) => {
    if (dirname(path) !== dirname(o.ctDir)) throw new RuntimeError(`internal error: ${path} is not in the state dir`);
    return basename(path);
  };
  const startedFd = nfds + 1;
  const args = ['keeper', '--ct-dir', o.ctDir, '--exit-file', stateFile(o.exitFile), '--report-fd', String(nfds)];
  args.push('--nfds', String(nfds), '--timeout', String(o.timeoutSeconds ?? 30), '--started-fd', String(startedFd));
  args.push('--vmid', String(o.vmid), '--lxcpath', o.lxcPath, '--lxc-info', o.lxcInfo);
  if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
  if (o.startResultFile) args.push('--start-result', stateFile(o.startResultFile));
  for (const [k, v] of o.namespacedSysctls ?? []) args.push('--sysctl', `${k}=${v}`);
  for (const j of o.namespaceJoins ?? []) args.push('--join', `${PROC_NS_NAME[j.type]}:${j.field}:${j.path ?? `/proc/self/ns/${PROC_NS_NAME[j.type]}`}`);
  if (o.ctRoot) args.push('--owner', `${o.ctRoot.uid}:${o.ctRoot.gid}`);
  // The keeper gets exactly the caller's fds 0..2 (+ --preserve-fds), nothing else we hold:
  // a leaked fd (containerd's shim socket is fd 3) must not reach the container.
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit', ...preserved, 'pipe', 'pipe'];
  // Loaded on first use: this module shares a chunk with the commands that never spawn.
  const { spawn } = await import('node:child_process');
  const child = spawn(helperPath('pxoci-helper'), args, { stdio });
  const reportStream = child.stdio[nfds] as Readable;
  reportStream.setEncoding('utf8');

  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  let ended = false;
  let buffered = '';
  reportStream.on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    waiting?.();
  });
  reportStream.on('close', () => {
    ended = true;
    waiting?.();
  });
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));

  async function nextLine(): Promise<string | undefined> {
    for (;;) {
      const line = lines.shift();
      if (line !== undefined) return line;
      if (ended) return undefined;
      await new Promise<void>((resolve) => (waiting = resolve));
      waiting = undefined;
    }
  }

  const first = await Promise.race([nextLine(), spawnError]);
  if (first instanceof Error) throw new RuntimeError(`cannot start pxoci-helper: ${first.message}`);
  const pidMatch = first === undefined ? null : /^pid (\d+)$/.exec(first);
  // A namespace the config names that is none is the launcher's first word.
  if (first?.startsWith('error ')) throw new RuntimeError(first.slice(6));
  if (!pidMatch) throw new RuntimeError(`pxoci keeper failed: ${first ?? 'no report'}`);
  const launcherPid = Number(pidMatch[1]);

  const ready = (async () => {
    const line = await nextLine();
    const ok = line === undefined ? null : /^ready (\d+) (\d+) (\d+)$/.exec(line);
    if (ok) return { initPid: Number(ok[1]), pid: Number(ok[2]), keeperPid: Number(ok[3]) };
    const msg = line?.startsWith('error ') ? line.slice(6) : 'the keeper ended before the container was ready';
    throw new RuntimeError(msg);
  })();
  ready.catch(() => undefined);
  const stopLauncher = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const started = child.stdio[startedFd] as Writable;
  // Once the launcher has taken the byte (or is gone) nothing more goes either way.
  started.on('error', () => undefined);
  const ctStarted = () => started.end('s');
  return { launcherPid, stopLauncher, ctStarted, ready };
}
