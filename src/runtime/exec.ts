// A new process in a running CT (runc exec), through lxc-attach (on every PVE node) and pxoci's init in
// exec mode, which applies the process spec (cwd, user, groups, env, rlimits) like for the first one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { unknownPropertyWarning, validateProcess } from '../oci/bundle.js';
import { processToInitSpec } from '../oci/translate.js';
import { encodeInitSpec } from '../oci/initspec.js';
import { helperPath } from '../lib/native-paths.js';
import { atomicWrite } from '../lib/atomic-files.js';
import type { Context } from './context.js';
import { RuntimeError, ttyNeedsConsoleSocket } from './errors.js';
import { readJsonFile } from './caller-files.js';
import { warn } from './log.js';
import { checkPreserveFds } from './preserve-fds.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { checkOwned } from './ct-configs.js';

export interface ExecOptions {
  process?: string;
  detach?: boolean;
  pidFile?: string;
  tty?: boolean;
  consoleSocket?: string;
  preserveFds?: number;
  cwd?: string;
  env?: string[];
  user?: string;
  args: string[];
}

function readProcess(o: ExecOptions): unknown {
  if (o.process) return readJsonFile(o.process);
  if (o.args.length === 0) throw new RuntimeError('exec: no command given (use --process or arguments)');
  const [uid, gid] = (o.user ?? '0:0').split(':');
  return {
    terminal: o.tty === true,
    args: o.args,
    env: o.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: o.cwd ?? '/',
    user: { uid: Number(uid ?? 0), gid: Number(gid ?? 0) },
  };
}

/** How a foreground process ended, for the caller to end the same way. */
export interface ExecExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the process; in the foreground resolves with how it ended, detached once it runs (undefined). */
export async function execProcess(ctx: Context, id: string, o: ExecOptions): Promise<ExecExit | undefined> {
  const rec = ctx.store.load(id);
  checkAllowed('exec', containerStatus(ctx.store, rec), id);
  const preserveFds = checkPreserveFds(o.preserveFds);
  checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.token(id));
  const proc = validateProcess(readProcess(o), (field) => warn(unknownPropertyWarning(field)));
  const init = processToInitSpec(proc);
  if (init.terminal && !o.consoleSocket && o.detach) {
    throw ttyNeedsConsoleSocket();
  }
  const specName = `exec-${randomBytes(6).toString('hex')}`;
  atomicWrite(`${ctx.store.ctDir(id)}/${specName}`, encodeInitSpec(init), 0o644);
  const attach = [
    ctx.driver.paths.lxcBin('lxc-attach'),
    '-P', ctx.driver.paths.lxcPath, '-n', String(rec.vmid), '--clear-env', '--',
    '/.pxoci/init', 'exec', `/.pxoci/${specName}`,
  ];
  // lxc-attach and the init in exec mode hand every fd they inherit on to the process: it gets the
  // caller's 0..2 and the preserved ones, and nothing else (Node's spawn passes only what it is told).
  const preserved = Array.from({ length: preserveFds }, (_, i) => 3 + i);
  const reportFd = 3 + preserveFds;
  const helperArgs = ['run'];
  if (o.detach) helperArgs.push('--detach', '--report-fd', String(reportFd));
  if (o.consoleSocket) helperArgs.push('--console-socket', resolve(o.consoleSocket));
  helperArgs.push('--', ...attach);
  const child = spawn(helperPath('pxoci-helper'), helperArgs, {
    stdio: ['inherit', 'inherit', 'inherit', ...preserved, o.detach ? 'pipe' : 'ignore'],
  });
  if (!o.detach) return new Promise<ExecExit>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const report = child.stdio[reportFd] as Readable;
  report.setEncoding('utf8');
  let text = '';
  for await (const chunk of report) text += chunk as string;
  const m = /^pid (\d+)$/m.exec(text);
  if (!m) throw new RuntimeError(text.replace(/^error /, '').trim() || 'exec failed to start');
  if (o.pidFile) atomicWrite(isAbsolute(o.pidFile) ? o.pidFile : resolve(o.pidFile), m[1]!, 0o644);
  return undefined;
}
