// Starting the keeper (native/keeper.c) and following its progress reports.
import type { StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { helperPath } from '../lib/native-paths.js';
import { RuntimeError } from './errors.js';

export interface KeeperOptions {
  ctDir: string;
  exitFile: string;
  preserveFds: number;
  consoleSocket?: string;
  timeoutSeconds?: number;
  namespacedSysctls?: Array<[string, string]>;
  /** Host uid/gid of a user-namespaced CT's root: its init must open the socket and the fifo. */
  ctRoot?: { uid: number; gid: number };
  /** Where the keeper records how the startContainer hooks ended ("ok" or their error). */
  startResultFile?: string;
}

export interface Keeper {
  pid: number;
  /** Resolves once the CT's init holds the stdio and the container process waits for start. */
  ready: Promise<{ initPid: number; pid: number }>;
}

export async function startKeeper(o: KeeperOptions): Promise<Keeper> {
  const nfds = 3 + o.preserveFds;
  const preserved = Array.from({ length: o.preserveFds }, (_, i) => 3 + i);
  const args = ['keeper', '--ct-dir', o.ctDir, '--exit-file', o.exitFile, '--report-fd', String(nfds)];
  args.push('--nfds', String(nfds), '--timeout', String(o.timeoutSeconds ?? 30));
  if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
  if (o.startResultFile) args.push('--start-result', o.startResultFile);
  for (const [k, v] of o.namespacedSysctls ?? []) args.push('--sysctl', `${k}=${v}`);
  if (o.ctRoot) args.push('--owner', `${o.ctRoot.uid}:${o.ctRoot.gid}`);
  // The keeper gets exactly the caller's fds 0..2 (+ --preserve-fds), nothing else we hold:
  // a leaked fd (containerd's shim socket is fd 3) must not reach the container.
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit', ...preserved, 'pipe'];
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
  if (!pidMatch) throw new RuntimeError(`pxoci keeper failed: ${first ?? 'no report'}`);
  const pid = Number(pidMatch[1]);

  const ready = (async () => {
    const line = await nextLine();
    const ok = line === undefined ? null : /^ready (\d+) (\d+)$/.exec(line);
    if (ok) return { initPid: Number(ok[1]), pid: Number(ok[2]) };
    const msg = line?.startsWith('error ') ? line.slice(6) : 'the keeper ended before the container was ready';
    throw new RuntimeError(msg);
  })();
  ready.catch(() => undefined);
  return { pid, ready };
}
