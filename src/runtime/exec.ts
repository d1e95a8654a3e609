// A new process in a running CT (runc exec), through lxc-attach (on every PVE node) and pxoci's init in
// exec mode, which applies the process spec (cwd, user, groups, env, rlimits) like for the first one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { unknownPropertyWarning, validateProcess, validateSpec, type OciProcess } from '../oci/bundle.js';
import { processToInitSpec } from '../oci/translate.js';
import { encodeInitSpec, type InitSpec } from '../oci/initspec.js';
import { capabilityNumber } from '../oci/capabilities.js';
import { rejectionReason } from '../oci/fields.js';
import type { PveConfig } from '../pve/config.js';
import { helperPath } from '../lib/native-paths.js';
import { atomicWrite } from '../lib/atomic-files.js';
import type { Context } from './context.js';
import { RuntimeError, consoleSocketNeedsTty, ttyNeedsConsoleSocket } from './errors.js';
import { readJsonFile } from './caller-files.js';
import { warn } from './log.js';
import { checkPreserveFds } from './preserve-fds.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { checkOwned } from './ct-configs.js';
import type { ContainerRecord } from './record.js';

/** runc exec's options; those that shape the process count only without --process, as in runc. */
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
  additionalGids?: string[];
  cap?: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  cgroup?: string[];
  ignorePaused?: boolean;
  args: string[];
}

const MAX_ID = 2 ** 32 - 1;
const isId = (text: string) => /^\d+$/.test(text) && Number(text) <= MAX_ID;

/** runc's getProcess without --process: the bundle's config.json process, with the flags on top. */
function processFromBundle(rec: ContainerRecord, o: ExecOptions): OciProcess {
  if (o.args.length === 0) throw new RuntimeError('exec: no command given (use --process or arguments)');
  // create already warned about the bundle's unknown properties; they are as ignored here.
  const spec = validateSpec(readJsonFile(join(rec.bundle, 'config.json'), 'config.json'), () => {});
  if (!spec.process) throw new RuntimeError(`config.json: process is required (exec starts from the bundle's process)`);
  const p: OciProcess = structuredClone(spec.process);
  p.args = [...o.args];
  if (o.cwd !== undefined) {
    if (!isAbsolute(o.cwd)) throw new RuntimeError(`--cwd ${o.cwd}: must be an absolute path`);
    p.cwd = o.cwd;
  }
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  for (const name of o.cap ?? []) {
    if (capabilityNumber(name) === undefined) throw new RuntimeError(`--cap ${name}: unknown capability`);
    if (!p.capabilities) continue; // the process keeps every capability of the CT; checked below
    for (const set of ['bounding', 'effective', 'permitted'] as const) p.capabilities[set] = [...(p.capabilities[set] ?? []), name];
    // Ambient needs inheritable, which --cap does not add: only where the spec has inheritable (runc).
    if (p.capabilities.inheritable) p.capabilities.ambient = [...(p.capabilities.ambient ?? []), name];
  }
  for (const e of o.env ?? []) {
    if (!/^[^=]+=/.test(e)) throw new RuntimeError(`--env ${e}: must be NAME=value`);
  }
  p.env = [...(p.env ?? []), ...(o.env ?? [])];
  p.terminal = o.tty === true;
  if (o.noNewPrivs) p.noNewPrivileges = true;
  const user = (p.user ??= { uid: 0, gid: 0 });
  if (o.user !== undefined) {
    const [uid, gid, ...rest] = o.user.split(':');
    if (!isId(uid!) || (gid !== undefined && !isId(gid)) || rest.length > 0) {
      throw new RuntimeError(`--user ${o.user}: must be <uid>[:<gid>] (numbers: pxoci does not look names up in the container)`);
    }
    user.uid = Number(uid);
    if (gid !== undefined) user.gid = Number(gid);
  }
  for (const gid of o.additionalGids ?? []) {
    if (!isId(gid)) throw new RuntimeError(`--additional-gids ${gid}: must be a gid (a number from 0 to ${MAX_ID})`);
    user.additionalGids = [...(user.additionalGids ?? []), Number(gid)];
  }
  return p;
}

/** Flags whose effect a PVE CT cannot give an exec'd process: refused by name, before anything runs. */
function refuseUnsupported(o: ExecOptions): void {
  if (o.processLabel !== undefined) throw new RuntimeError(`--process-label: ${rejectionReason('process.selinuxLabel')}`);
  if (o.cgroup?.length) {
    throw new RuntimeError(`--cgroup ${o.cgroup.join(' ')}: pxoci cannot place an exec'd process in a sub-cgroup: lxc-attach puts it in the CT's own cgroup`);
  }
}

/** lxc-attach gives the process the CT's AppArmor profile, and LXC offers no way to another. */
function checkApparmor(profile: string | undefined, conf: PveConfig, field: string): void {
  if (!profile) return;
  const ct = conf.lxc.filter(([key]) => key === 'lxc.apparmor.profile').at(-1)?.[1];
  if (profile === ct) return;
  throw new RuntimeError(
    `${field} ${profile}: a process exec'd into a PVE CT runs under the CT's own AppArmor profile (${ct ?? "LXC's generated one"}); LXC cannot give it another`,
  );
}

/** A host pid of the CT, for what /proc tells of the CT as a whole: its bounding set, its id maps. */
function ctPid(rec: ContainerRecord): number {
  const pid = rec.initPid ?? rec.pid;
  if (pid === undefined) throw new RuntimeError('internal error: a running container without a pid');
  return pid;
}

/** Every capability the spec asks for must be in the CT's bounding set: lxc-attach cannot add one. */
function checkCapabilities(init: InitSpec, rec: ContainerRecord, fromFlags: string[]): void {
  const asked: Array<[string, number]> = fromFlags.map((name) => ['--cap', capabilityNumber(name)!]);
  for (const [set, numbers] of Object.entries(init.capabilities ?? {})) {
    if (set !== 'bounding') for (const n of numbers) asked.push([`process.capabilities.${set}`, n]);
  }
  if (asked.length === 0) return;
  const status = readFileSync(`/proc/${ctPid(rec)}/status`, 'utf8');
  const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  for (const [field, n] of asked) {
    if (bounding & (1n << BigInt(n))) continue;
    throw new RuntimeError(
      `${field}: capability number ${n} is not in the container's bounding set: a process exec'd into a PVE CT gets at most the CT's capabilities`,
    );
  }
}

/** runc's rule: the last NAME=… wins, in the place of the first. */
function lastValueWins(env: string[]): string[] {
  const at = new Map<string, number>();
  const out: string[] = [];
  for (const e of env) {
    const name = e.slice(0, e.indexOf('='));
    const i = at.get(name);
    if (i === undefined) at.set(name, out.push(e) - 1);
    else out[i] = e;
  }
  return out;
}

/**
 * Host uid/gid of the CT's root, from the id maps of a CT process: a user-namespaced CT reads the exec
 * spec as that user. undefined: the CT's root is the host's.
 */
function ctRootOwner(pid: number): { uid: number; gid: number } | undefined {
  const hostIdOfRoot = (map: string) => {
    for (const line of readFileSync(`/proc/${pid}/${map}`, 'utf8').trim().split('\n')) {
      const [inside, outside, count] = line.trim().split(/\s+/).map(Number) as [number, number, number];
      if (inside <= 0 && 0 < inside + count) return outside - inside;
    }
    throw new RuntimeError(`the container's ${map} does not map its root`);
  };
  const uid = hostIdOfRoot('uid_map');
  const gid = hostIdOfRoot('gid_map');
  return uid === 0 && gid === 0 ? undefined : { uid, gid };
}

/**
 * The exec's process spec (args and env: secrets) in ct/, which the CT sees at /.pxoci: created
 * exclusively and never through a link, readable by root and by the CT's root alone whatever the umask.
 */
function writeExecSpec(path: string, data: Buffer, owner: { uid: number; gid: number } | undefined): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    writeSync(fd, data);
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** How a foreground process ended, for the caller to end the same way. */
export interface ExecExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the process; in the foreground resolves with how it ended, detached once it runs (undefined). */
export async function execProcess(ctx: Context, id: string, o: ExecOptions): Promise<ExecExit | undefined> {
  const rec = ctx.store.load(id);
  const status = containerStatus(ctx.store, rec);
  // lxc-attach into a frozen CT waits, frozen with it, until resume: what runc's --ignore-paused does.
  if (!(status === 'paused' && o.ignorePaused)) checkAllowed('exec', status, id);
  refuseUnsupported(o);
  const preserveFds = checkPreserveFds(o.preserveFds);
  const conf = checkOwned(ctx.driver.paths, rec.vmid!, id, ctx.store.ownerKey());
  const proc = o.process ? validateProcess(readJsonFile(o.process), (field) => warn(unknownPropertyWarning(field))) : processFromBundle(rec, o);
  // runc's checkTerminal: a console socket only for a detached process with a terminal.
  if (o.detach && proc.terminal && !o.consoleSocket) throw ttyNeedsConsoleSocket();
  if ((!o.detach || !proc.terminal) && o.consoleSocket) throw consoleSocketNeedsTty();
  checkApparmor(proc.apparmorProfile, conf, o.process ? 'process.apparmorProfile' : '--apparmor');
  const init = processToInitSpec(proc);
  init.env = lastValueWins(init.env);
  checkCapabilities(init, rec, o.process ? [] : (o.cap ?? []));

  const specName = `exec-${randomBytes(6).toString('hex')}`;
  const specPath = `${ctx.store.ctDir(id)}/${specName}`;
  writeExecSpec(specPath, encodeInitSpec(init), ctRootOwner(ctPid(rec)));
  const attach = [
    ctx.driver.paths.lxcBin('lxc-attach'),
    '-P', ctx.driver.paths.lxcPath, '-n', String(rec.vmid), '--clear-env', '--',
    '/.pxoci/init', 'exec', `/.pxoci/${specName}`,
  ];
  // lxc-attach and the init in exec mode hand every fd they inherit on to the process: it gets the
  // caller's 0..2 and the preserved ones, and nothing else (Node's spawn passes only what it is told).
  const preserved = Array.from({ length: preserveFds }, (_, i) => 3 + i);
  const reportFd = 3 + preserveFds;
  // The helper removes the spec once the process has ended, detached or not: the init reads it from a
  // read-only mount, so it cannot unlink it itself, and until then it is readable only by whom the
  // process's own /proc/<pid>/environ and cmdline are anyway.
  const helperArgs = ['run', '--nfds', String(3 + preserveFds), '--remove', specPath];
  if (o.detach) helperArgs.push('--detach', '--report-fd', String(reportFd));
  if (o.consoleSocket) {
    helperArgs.push('--console-socket', resolve(o.consoleSocket));
    if (init.consoleSize) helperArgs.push('--winsize', `${init.consoleSize.height}:${init.consoleSize.width}`);
  }
  helperArgs.push('--', ...attach);
  const child = spawn(helperPath('pxoci-helper'), helperArgs, {
    stdio: ['inherit', 'inherit', 'inherit', ...preserved, o.detach ? 'pipe' : 'ignore'],
  });
  const spawnFailed = new Promise<never>((_, fail) =>
    child.on('error', (e) => {
      rmSync(specPath, { force: true });
      fail(new RuntimeError(`exec: cannot run pxoci-helper: ${e.message}`));
    }),
  );
  spawnFailed.catch(() => {}); // raced below; an 'error' after the race is settled must not crash us
  if (!o.detach) {
    return Promise.race([spawnFailed, new Promise<ExecExit>((res) => child.on('exit', (code, signal) => res({ code, signal })))]);
  }
  const report = child.stdio[reportFd] as Readable;
  report.setEncoding('utf8');
  const readReport = async () => {
    let text = '';
    for await (const chunk of report) text += chunk as string;
    return text;
  };
  const text = await Promise.race([spawnFailed, readReport()]);
  const m = /^pid (\d+)$/m.exec(text);
  if (!m) throw new RuntimeError(text.replace(/^error /, '').trim() || 'exec failed to start');
  if (o.pidFile) atomicWrite(isAbsolute(o.pidFile) ? o.pidFile : resolve(o.pidFile), m[1]!, 0o644);
  return undefined;
}
