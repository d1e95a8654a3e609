// pct for the simulated PVE node: PVE's syntax, output, error texts and exit codes (255 on failure),
// on a node rooted at PXOCI_PVE_ROOT, starting real containers with LXC.
import { appendFileSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, lchownSync, rmSync, rmdirSync, watch, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  checkOption,
  effectiveConfig,
  encodeText,
  isOption,
  normalizeTags,
  optionIsBoolean,
  parseBoolean,
  parsePropertyString,
  splitList,
  type PveConfig,
} from '../pve/config.js';
import { createExclusive } from '../lib/atomic-files.js';
import { withFileLock } from '../lib/flock.js';
import { ctVmids, deviceNumbers, isCtRunning } from '../pve/node-facts.js';
import { nodePaths } from '../pve/paths.js';
import { createHash, spawn, spawnSync } from './lazy-builtins.js';
import { hostCgroupMode, lxcConfigForThisHost, thisHostFacts } from './host-adapter.js';
import { NET_UP_SCRIPT } from './node-network.js';
import { startHostDhcp } from './ct-dhcp.js';
import { updateLxcConfig } from './update-lxc-config.js';
import { setCtLimits, type CgroupSetting } from '../pve/ct-cgroups.js';
import { clusterGuests, nodeRelease, readConfig, updateVmlist, writeConfig } from './ct-configs.js';
import { cgroupScope, ctCgroupValue, removeStaleCgroups } from './node-cgroups.js';
import { applyPending, getKey, setKey } from './pending.js';
import { PveError } from './pve-error.js';
import { ctDir, imagesDir, mountsBelow, prestartMarkerPath, prestartScript, prestartScriptPath, rootfsDir, simHookPaths, templateCacheDir } from './volumes.js';

const p = nodePaths();
const pve = nodeRelease(p);
const isRunning = (vmid: number) => isCtRunning(p, vmid);

// ---- command line, as PVE's CLIHandler/JSONSchema parse it -------------------------------------

type ParamType = 'boolean' | 'integer' | 'string';
interface CommandSchema {
  usage: string;
  params: Record<string, ParamType>;
  /** `set`/`create` take every CT option as well. */
  ctOptions?: boolean;
}

const COMMANDS: Record<string, CommandSchema> = {
  config: { usage: 'pct config <vmid> [OPTIONS]', params: { current: 'boolean', snapshot: 'string' } },
  set: { usage: 'pct set <vmid> [OPTIONS]', params: { delete: 'string', digest: 'string', revert: 'string', skiplock: 'boolean' }, ctOptions: true },
  start: { usage: 'pct start <vmid> [OPTIONS]', params: { skiplock: 'boolean', debug: 'boolean' } },
  stop: { usage: 'pct stop <vmid> [OPTIONS]', params: { skiplock: 'boolean', 'overrule-shutdown': 'boolean' } },
  shutdown: { usage: 'pct shutdown <vmid> [OPTIONS]', params: { timeout: 'integer', forceStop: 'boolean' } },
  status: { usage: 'pct status <vmid> [OPTIONS]', params: { verbose: 'boolean' } },
  list: { usage: 'pct list', params: {} },
  destroy: { usage: 'pct destroy <vmid> [OPTIONS]', params: { force: 'boolean', purge: 'boolean', 'destroy-unreferenced-disks': 'boolean' } },
  exec: { usage: 'pct exec <vmid> [<extra-args>] [OPTIONS]', params: { 'keep-env': 'boolean' } },
  create: {
    usage: 'pct create <vmid> <ostemplate> [OPTIONS]',
    params: { storage: 'string', start: 'boolean', force: 'boolean', unique: 'boolean', 'ignore-unpack-errors': 'boolean', pool: 'string', password: 'string', 'ssh-public-keys': 'string' },
    ctOptions: true,
  },
  unlock: { usage: 'pct unlock <vmid>', params: {} },
};

function paramError(cmd: string, errors: Record<string, string>): never {
  const lines = ['400 Parameter verification failed.', ...Object.entries(errors).map(([k, v]) => `${k}: ${v}`), COMMANDS[cmd]!.usage];
  throw new PveError(lines.join('\n'));
}

function parseVmid(cmd: string, text: string | undefined): number {
  if (text === undefined) paramError(cmd, { vmid: 'property is missing and it is not optional' });
  if (!/^[1-9][0-9]{2,8}$/.test(text)) paramError(cmd, { vmid: 'invalid format - value does not look like a valid VM ID' });
  return Number(text);
}

/**
 * `--key value` / `--key=value`; booleans may stand alone (Getopt's optional value: the next word is
 * taken unless it starts with '-'). Every value is verified against the command's schema.
 */
function parseParams(cmd: string, args: string[]): Record<string, string> {
  const schema = COMMANDS[cmd]!;
  const typeOf = (k: string): ParamType | undefined =>
    schema.params[k] ?? (schema.ctOptions && isOption(k, pve) ? (optionIsBoolean(k) ? 'boolean' : 'string') : undefined);
  const o: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) throw new PveError('400 too many arguments\n' + schema.usage);
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq > 0 ? body.slice(0, eq) : body;
    const type = typeOf(key);
    let value: string | undefined = eq > 0 ? body.slice(eq + 1) : undefined;
    if (value === undefined) {
      const next = args[i + 1];
      if (type === 'boolean') {
        if (next !== undefined && !next.startsWith('-')) {
          value = next;
          i++;
        } else value = '1';
      } else if (next !== undefined) {
        value = next;
        i++;
      } else throw new PveError(`400 unable to parse option\n${schema.usage}`);
    }
    if (!type) {
      errors[key] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    if (type === 'boolean') value = parseBoolean(value) ?? value;
    o[key] = value;
    let err: string | undefined;
    if (schema.params[key]) {
      if (type === 'boolean' && value !== '0' && value !== '1') err = `type check ('boolean') failed - got '${value}'`;
      else if (type === 'integer' && !/^[+-]?\d+$/.test(value)) err = `type check ('integer') failed - got '${value}'`;
    } else err = checkOption(key, value, pve);
    if (err) errors[key] = err;
  }
  if (Object.keys(errors).length) paramError(cmd, errors);
  return o;
}

// ---- helpers -----------------------------------------------------------------------------------

function lockConfig<T>(vmid: number, body: () => Promise<T>, timeout = 10): Promise<T> {
  return withFileLock(p.lockPath(vmid), timeout, body);
}

function checkLock(config: PveConfig): void {
  if (config.options.lock) throw new PveError(`CT is locked (${config.options.lock})`);
}

function lxcArgs(vmid: number): string[] {
  return ['-P', p.lxcPath, '-n', String(vmid)];
}

function lxcPid(vmid: number): number | undefined {
  const r = spawnSync(p.lxcBin('lxc-info'), [...lxcArgs(vmid), '-p'], { encoding: 'utf8' });
  const m = /^PID:\s+(\d+)$/m.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitStopped(vmid: number, seconds: number): Promise<boolean> {
  const until = Date.now() + seconds * 1000;
  while (isRunning(vmid)) {
    if (Date.now() > until) return false;
    await sleep(50);
  }
  return true;
}

/** print_ct_stderr_log: each line without lxc-start's `lxc-start: <vmid>: <file:line> ` prefix. */
function ctStderrLog(vmid: number): string[] {
  let log = '';
  try {
    log = readFileSync(p.stderrPath(vmid), 'utf8');
  } catch {
    return [];
  }
  const prefix = new RegExp(`^\\s*(lxc-start:?\\s+${vmid}:?\\s*\\S+\\s*)?(.*?)\\s*$`);
  return log.replace(/\n$/, '').split('\n').map((l) => prefix.exec(l)![2]!);
}

function warn(msg: string): void {
  process.stderr.write(msg + '\n');
}

// ---- commands ----------------------------------------------------------------------------------

async function start(vmid: number, o: Record<string, string>): Promise<void> {
  if (isRunning(vmid)) throw new PveError(`CT ${vmid} already running`);
  await lockConfig(vmid, async () => {
    let config = readConfig(p, vmid);
    if (config.options.template === '1') throw new PveError("you can't start a CT if it's a template");
    if (o.skiplock !== '1' && config.options.lock !== 'mounted') checkLock(config);
    if (isRunning(vmid)) throw new PveError(`CT ${vmid} already running`);
    if (config.options.unprivileged === '1') {
      for (const k of Object.keys(config.options).filter((k) => k === 'rootfs' || /^mp\d+$/.test(k))) {
        if (parsePropertyString(k === 'rootfs' ? 'rootfs' : 'mp', config.options[k]!, { pve }).quota === '1') {
          throw new PveError('Quotas are not supported by unprivileged containers.');
        }
      }
    }
    if (config.pending) {
      config = applyPending(config);
      writeConfig(p, vmid, config);
    }
    const dir = ctDir(p, vmid);
    const firstStart = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    let built;
    try {
      built = lxcConfigForThisHost(config, vmid, p, simHookPaths(p), pve, firstStart);
    } catch (e) {
      throw new PveError((e as Error).message);
    }
    for (const w of built.warnings) warn(`WARN: pvesim: ${w}`);
    // pmxcfs refuses a CT config whose VMID a VM has; a directory cannot.
    const guest = clusterGuests(p).get(vmid);
    if (guest?.type === 'qemu') warn(`WARN: pvesim: VMID ${vmid} is also VM ${vmid}'s on node '${guest.node}': pmxcfs would have refused this CT's config`);
    // LXC runs the network up-script, so it must be executable.
    for (const [name, text] of Object.entries(built.files)) writeFileSync(join(dir, name), text, { mode: name === NET_UP_SCRIPT ? 0o755 : 0o644 });
    writeFileSync(join(dir, 'config'), built.lines.join('\n') + '\n');
    writeFileSync(prestartScriptPath(p, vmid), prestartScript(p, vmid, config, pve, thisHostFacts(p.lxcPath, pve, firstStart).device));
    removeStaleCgroups(p.root, vmid);
    mkdirSync(join(p.root, 'run/pve'), { recursive: true });
    const stderrFile = p.stderrPath(vmid);
    const debugLog = join(p.root, 'run/pve', `ct-${vmid}.log`);
    rmSync(stderrFile, { force: true });
    rmSync(debugLog, { force: true });
    // Like the pve-container@ unit: `lxc-start -F` (the monitor, which runs the hooks), detached from
    // us, stdout discarded, stderr to run/pve/ct-<vmid>.stderr. LXC keeps a hook's own words for its
    // debug log: written to run/pve/ct-<vmid>.log, as an admin gets it with `-l DEBUG -o`.
    rmSync(prestartMarkerPath(p, vmid), { force: true });
    const errFd = openSync(stderrFile, 'a');
    const monitor = spawn(p.lxcBin('lxc-start'), [...lxcArgs(vmid), '-F', '-o', debugLog, '-l', 'DEBUG'], { stdio: ['ignore', 'ignore', errFd], detached: true });
    closeSync(errFd);
    const outcome = await monitorStart(vmid, monitor);
    if (outcome === 'failed') throw new PveError([...ctStderrLog(vmid), `startup for container '${vmid}' failed`].join('\n'));
    if (outcome === 'timeout') warn('problem with monitor socket, but continuing anyway: got timeout');
    monitor.unref();
    // vm_start, still under the config lock: the host runs the DHCP clients of host-managed netN.
    try {
      startHostDhcp(p, vmid, config.options, () => lxcPid(vmid), warn);
    } catch (e) {
      throw new PveError((e as Error).message);
    }
  });
}

/**
 * PVE's monitor_start: 'running' once LXC says RUNNING, 'failed' when the monitor ends before, 'timeout'
 * after 10 s (PVE then warns and carries on). lxc-wait retries a missing command socket only once a
 * second: it starts once the pre-start hook has run (LXC makes the socket before it runs the hooks),
 * which the hook's marker file tells without polling.
 */
function monitorStart(vmid: number, monitor: ReturnType<typeof spawn>): Promise<'running' | 'failed' | 'timeout'> {
  const marker = prestartMarkerPath(p, vmid);
  return new Promise((resolve) => {
    let waiter: ReturnType<typeof spawn> | undefined;
    let monitorEnded = false;
    const watcher = watch(dirname(marker));
    const finish = (outcome: 'running' | 'failed' | 'timeout') => {
      clearTimeout(timer);
      watcher.close();
      monitor.removeAllListeners('exit');
      waiter?.removeAllListeners('exit');
      if (outcome !== 'running') waiter?.kill('SIGKILL');
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('timeout'), 10_000);
    monitor.once('exit', () => {
      monitorEnded = true;
      // A waiter that saw RUNNING has said so already; one still waiting ends with the monitor.
      if (!waiter) finish('failed');
    });
    const hookRan = () => {
      if (waiter || monitorEnded) return;
      waiter = spawn(p.lxcBin('lxc-wait'), [...lxcArgs(vmid), '-s', 'RUNNING', '-t', '10'], { stdio: 'ignore' });
      // A waiter that gave up while the CT's command socket is still there only timed out.
      waiter.once('exit', (code) => finish(code === 0 ? 'running' : !monitorEnded && isRunning(vmid) ? 'timeout' : 'failed'));
    };
    watcher.on('change', (_event, name) => {
      if (name === basename(marker)) hookRan();
    });
    watcher.on('error', () => {});
    if (existsSync(marker)) hookRan();
  });
}

async function stop(vmid: number, o: Record<string, string>): Promise<void> {
  if (!isRunning(vmid)) throw new PveError(`CT ${vmid} not running`);
  await lockConfig(vmid, async () => {
    const config = readConfig(p, vmid);
    if (o.skiplock !== '1' && config.options.lock !== 'mounted') checkLock(config);
    spawnSync(p.lxcBin('lxc-stop'), [...lxcArgs(vmid), '--kill']);
    if (!(await waitStopped(vmid, 10))) throw new PveError('container did not stop');
  });
}

async function shutdown(vmid: number, o: Record<string, string>): Promise<void> {
  if (!isRunning(vmid)) throw new PveError(`CT ${vmid} not running`);
  const timeout = Number(o.timeout ?? '60');
  await lockConfig(vmid, async () => {
    const config = readConfig(p, vmid);
    checkLock(config);
    // vm_stop: --nokill unless forceStop, so that lxc-stop kills after the timeout.
    const args = ['-n', String(vmid), ...(o.forceStop === '1' ? [] : ['--nokill']), '--timeout', String(timeout)];
    const r = spawnSync(p.lxcBin('lxc-stop'), ['-P', p.lxcPath, ...args], { timeout: (timeout + 5) * 1000 });
    if (r.status !== 0) {
      warn(`command 'lxc-stop ${args.join(' ')}' failed: exit code ${r.status ?? 'unknown'}`);
      if (!(await waitStopped(vmid, 5))) throw new PveError('container did not stop');
    }
    await waitStopped(vmid, 10);
  });
}

function status(vmid: number, verbose: boolean): void {
  const config = readConfig(p, vmid);
  const o = config.options;
  const running = isRunning(vmid);
  if (!verbose) {
    process.stdout.write(`status: ${running ? 'running' : 'stopped'}\n`);
    return;
  }
  // vmstatus's fields; network and I/O counters are not simulated and stay 0, as for a stopped CT.
  const info: Record<string, string | number> = {
    vmid,
    status: running ? 'running' : 'stopped',
    type: 'lxc',
    name: (o.hostname || `CT${vmid}`).replace(/\s/g, ''),
    cpus: Number(o.cores || o.cpulimit || 0) || cpus().length,
    maxmem: Number(o.memory || 512) * 1024 * 1024,
    maxswap: Number(o.swap ?? 0) * 1024 * 1024,
    maxdisk: 4 * 1024 * 1024 * 1024,
    disk: 0,
    mem: 0,
    swap: 0,
    uptime: 0,
    cpu: 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (o.tags !== undefined) info.tags = o.tags;
  if (o.template === '1') info.template = 1;
  if (o.lock) info.lock = o.lock;
  if (running) {
    const pid = lxcPid(vmid);
    if (pid) {
      info.pid = pid;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
        const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
        info.uptime = Math.max(0, Math.trunc(uptime - startTicks / 100));
      } catch {
        // the CT stopped meanwhile
      }
    }
    info.mem = hostCgroupMode() === 'unified' ? ctCgroupValue(p.root, vmid, '', 'memory.current') : ctCgroupValue(p.root, vmid, 'memory', 'memory.usage_in_bytes');
  }
  for (const k of Object.keys(info).sort()) process.stdout.write(`${k}: ${info[k]}\n`);
}

function list(): void {
  const rows = ctVmids(p).map((vmid) => {
    const c = readConfig(p, vmid, true).options;
    return [String(vmid), isRunning(vmid) ? 'running' : 'stopped', c.lock ?? '', (c.hostname || `CT${vmid}`).replace(/\s/g, '')];
  });
  if (rows.length === 0) return;
  const line = (r: string[]) => `${r[0]!.padEnd(10)} ${r[1]!.padEnd(10)} ${r[2]!.padEnd(12)} ${r[3]!.padEnd(20)}\n`;
  process.stdout.write(line(['VMID', 'Status', 'Lock', 'Name']));
  for (const r of rows) process.stdout.write(line(r));
}

/** pct config: vm_config's hash printed `k: v` sorted (description encoded), then the raw lxc.* list. */
function config(vmid: number, o: Record<string, string>): void {
  const full = readConfig(p, vmid);
  let c: PveConfig;
  if (o.snapshot !== undefined) {
    const snap = full.snapshots?.[o.snapshot];
    if (!snap) throw new PveError(`snapshot '${o.snapshot}' does not exist`);
    c = snap;
  } else c = effectiveConfig(full, o.current === '1');
  const out: Record<string, string> = { ...c.options };
  if (c.description !== undefined) out.description = encodeText(c.description);
  if (c.env?.length) out.env = c.env.join('\0');
  delete out.digest;
  for (const k of Object.keys(out).sort()) process.stdout.write(`${k}: ${out[k]}\n`);
  for (const [k, v] of c.lxc) process.stdout.write(`${k}: ${v}\n`);
}

// vmconfig_hotplug_pending: these change a running CT's config at once.
const FASTPLUG = ['description', 'onboot', 'startup', 'protection', 'hostname', 'hookscript', 'cores', 'tags', 'lock'];
// ...and these also reach its cgroups.
const CGROUP_HOTPLUG = ['memory', 'swap', 'cpulimit', 'cpuunits'];

async function set(vmid: number, o: Record<string, string>): Promise<void> {
  const { delete: del, digest, skiplock, revert, ...changes } = o;
  if (Object.keys(changes).length === 0 && !del && !revert) throw new PveError('no options specified');
  for (const k of splitList(del ?? '')) if (k in changes) throw new PveError(`you can't change and delete the same option '${k}'`);
  await lockConfig(vmid, async () => {
    let text: Buffer;
    try {
      text = readFileSync(p.confPath(vmid));
    } catch {
      throw new PveError(`Configuration file '${p.confRelative(vmid)}' does not exist`);
    }
    let c = readConfig(p, vmid);
    if (skiplock !== '1') checkLock(c);
    if (digest && createHash('sha1').update(text).digest('hex') !== digest) {
      throw new PveError('detected modified configuration - file changed by other user? Try again.');
    }
    const running = isRunning(vmid);
    const pending: NonNullable<PveConfig['pending']> = c.pending ?? { options: {}, lxc: [] };
    pending.delete = [...(pending.delete ?? [])];
    for (const k of splitList(revert ?? '')) {
      setKey(pending as PveConfig, k, undefined);
      pending.delete = pending.delete.filter((d) => d !== k);
    }
    const modified = new Set<string>();
    for (const k of splitList(del ?? '')) {
      if (getKey(c, k) === undefined && getKey(pending, k) === undefined) {
        warn(`cannot delete '${k}' - not set in current configuration!`);
        continue;
      }
      if (['memory', 'rootfs', 'ostype'].includes(k)) throw new PveError(`unable to delete required option '${k}'`);
      if (/^(unused|mp)\d+$/.test(k) && c.options.protection === '1') throw new PveError(`can't remove CT ${vmid} drive '${k}' - protection mode enabled`);
      if (k === 'unprivileged') throw new PveError(`unable to delete read-only option: '${k}'`);
      modified.add(k);
      setKey(pending as PveConfig, k, undefined);
      if (!pending.delete.includes(k)) pending.delete.push(k);
    }
    for (const k of Object.keys(changes).sort()) {
      let v = changes[k]!;
      if ((k === 'rootfs' || /^mp\d+$/.test(k)) && c.options.protection === '1') {
        throw new PveError(`can't update CT ${vmid} drive '${k}' - protection mode enabled`);
      }
      if (k === 'unprivileged') throw new PveError(`unable to modify read-only option: '${k}'`);
      if (k === 'tags') v = normalizeTags(v);
      if (/^dev\d+$/.test(k)) {
        const dev = parsePropertyString('dev', v);
        if (dev.path === undefined) throw new PveError(`Path is not defined for passthrough device ${k}`);
        if (!existsSync(dev.path)) throw new PveError(`Device ${dev.path} does not exist`);
        if (!deviceNumbers(dev.path)) throw new PveError(`${dev.path} is not a device`);
      }
      modified.add(k);
      setKey(pending as PveConfig, k, v);
      pending.delete = pending.delete.filter((d) => d !== k);
    }
    c.pending = pending;
    if (running) {
      // Hot-plugged keys leave [pve:pending]; the rest waits for the next start, as on PVE.
      c = applyPending(c, (k) => modified.has(k) && (FASTPLUG.includes(k) || CGROUP_HOTPLUG.includes(k)));
      for (const k of modified) {
        if (/^(mp|net|dev)\d+$/.test(k)) warn(`WARN: pvesim: hot-plugging ${k} is not simulated; it stays pending until the next start`);
      }
    } else c = applyPending(c);
    writeConfig(p, vmid, c);
    if (running && [...modified].some((k) => CGROUP_HOTPLUG.includes(k))) hotplugCgroups(vmid, c, modified);
  });
}

/**
 * vmconfig_hotplug_pending's cgroup part: PVE writes memory, swap, cpulimit and cpuunits of a running
 * CT into the CT's own cgroup (lxc/<vmid>, above the container's) at once; a deleted cpulimit or
 * cpuunits goes back to the cgroup's default.
 */
function hotplugCgroups(vmid: number, c: PveConfig, modified: Set<string>): void {
  const o = c.options;
  const settings: CgroupSetting[] = [];
  if (modified.has('memory') || modified.has('swap')) {
    const memory = updateLxcConfig({ options: o, lxc: [] }, vmid, thisHostFacts(p.lxcPath, pve, false, p.root)).steps.find((s) => s.step === 'memory');
    for (const [key, value] of memory?.lines ?? []) settings.push([key.slice('lxc.cgroup2.'.length), value]);
  }
  if (modified.has('cpulimit')) settings.push(['cpu.max', o.cpulimit !== undefined ? `${Math.trunc(100000 * Number(o.cpulimit))} 100000` : 'max']);
  if (modified.has('cpuunits')) settings.push(['cpu.weight', o.cpuunits ?? '100']);
  let unapplied: string[];
  try {
    unapplied = setCtLimits(`${cgroupScope(p.root)}lxc/${vmid}`, settings);
  } catch (e) {
    throw new PveError(`unable to hotplug: ${(e as Error).message}`);
  }
  for (const file of unapplied) warn(`WARN: pvesim: ${file} not enforced on this host (hybrid cgroups, no v1 equivalent)`);
}

async function destroy(vmid: number, o: Record<string, string>): Promise<void> {
  await lockConfig(vmid, async () => {
    const c = readConfig(p, vmid);
    if (c.options.protection === '1') throw new PveError(`can't remove CT ${vmid} - protection mode enabled`);
    checkLock(c);
    if (isRunning(vmid)) {
      if (o.force !== '1') throw new PveError(`unable to destroy CT ${vmid} - container is running`);
      warn(`forced to stop CT ${vmid} before destroying!`);
      spawnSync(p.lxcBin('lxc-stop'), [...lxcArgs(vmid), '--kill']);
      if (!(await waitStopped(vmid, 10))) throw new PveError('container did not stop');
    }
    // Never delete what a bind mount shows: refuse while anything is still mounted there.
    if (mountsBelow(rootfsDir(p, vmid)).length > 0) throw new PveError(`unable to destroy CT ${vmid} - volumes still mounted`);
    // destroy_lxc_container: a zombie config holds the VMID while the volumes go, and goes last.
    writeConfig(p, vmid, { options: { lock: 'destroyed' }, lxc: [] });
    // Only volumes of the simulated `local` storage are the CT's own; bind mounts are never removed.
    rmSync(imagesDir(p, vmid), { recursive: true, force: true });
    // As PVE: var/lib/lxc/<vmid> goes only when nothing but rootfs/ and config is in it (an unprivileged
    // CT's rules.seccomp stays, and so do its dir and run/pve/ct-<vmid>.stderr).
    rmdirQuietly(rootfsDir(p, vmid));
    rmSync(join(ctDir(p, vmid), 'config'), { force: true });
    rmSync(prestartScriptPath(p, vmid), { force: true });
    rmSync(prestartMarkerPath(p, vmid), { force: true });
    // pvesim's stand-in for /usr/share/lxc/lxcnetaddbr, which a PVE node does not keep per CT.
    rmSync(join(ctDir(p, vmid), NET_UP_SCRIPT), { force: true });
    rmdirQuietly(ctDir(p, vmid));
    rmSync(p.confPath(vmid), { force: true });
    updateVmlist(p);
  });
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or not there
  }
}

function exec(vmid: number, args: string[]): never {
  const dashdash = args.indexOf('--');
  const o = parseParams('exec', dashdash >= 0 ? args.slice(0, dashdash) : []);
  const cmd = dashdash >= 0 ? args.slice(dashdash + 1) : [];
  readConfig(p, vmid);
  if (!isRunning(vmid)) throw new PveError(`container '${vmid}' not running!`);
  if (cmd.length === 0) throw new PveError('missing command');
  const keep = (o['keep-env'] ?? '1') === '1';
  const r = spawnSync(p.lxcBin('lxc-attach'), [...lxcArgs(vmid), keep ? '--keep-env' : '--clear-env', '--', ...cmd], { stdio: 'inherit' });
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 255);
}

/** What PVE's setup modules look for to detect the distribution of a template. */
function detectOstype(rootfs: string): string | undefined {
  const has = (f: string) => existsSync(join(rootfs, f));
  if (has('etc/alpine-release')) return 'alpine';
  if (has('etc/devuan_version')) return 'devuan';
  if (has('etc/lsb-release') && /DISTRIB_ID=Ubuntu/.test(readFileSync(join(rootfs, 'etc/lsb-release'), 'utf8'))) return 'ubuntu';
  if (has('etc/debian_version')) return 'debian';
  if (has('etc/fedora-release')) return 'fedora';
  if (has('etc/centos-release') || has('etc/redhat-release')) return 'centos';
  if (has('etc/arch-release')) return 'archlinux';
  if (has('etc/gentoo-release')) return 'gentoo';
  if (has('etc/SuSE-brand') || has('etc/SuSE-release')) return 'opensuse';
  if (has('etc/nixos')) return 'nixos';
  return undefined;
}

/** An unprivileged CT's files belong to the mapped ids (PVE extracts through lxc-usernsexec). */
function shiftOwnership(dir: string, offset: number): void {
  const walk = (path: string) => {
    const st = lstatSync(path);
    lchownSync(path, st.uid + offset, st.gid + offset);
    if (st.isDirectory()) for (const e of readdirSync(path)) walk(join(path, e));
  };
  walk(dir);
}

async function create(vmid: number, template: string | undefined, o: Record<string, string>): Promise<void> {
  if (!template) paramError('create', { ostemplate: 'property is missing and it is not optional' });
  const { storage = 'local', start: startAfter, force: _force, unique: _u, 'ignore-unpack-errors': _i, pool: _pool, password: _pw, 'ssh-public-keys': _k, ...options } = o;
  if (storage !== 'local') throw new PveError(`storage '${storage}' does not exist`);
  mkdirSync(p.lxcConfDir, { recursive: true });
  // check_vmid_unused: VMs and CTs share the cluster's VMIDs.
  const taken = clusterGuests(p).get(vmid);
  if (taken) throw new PveError(`${taken.type === 'qemu' ? 'VM' : 'CT'} ${vmid} already exists on node '${taken.node}'`);
  // The placeholder is the reservation: pmxcfs answers EEXIST for a VMID that is taken.
  if (!createExclusive(p.confPath(vmid), 'lock: create\n')) throw new PveError(`CT ${vmid} already exists on node '${p.node}'`);
  updateVmlist(p);
  const images = imagesDir(p, vmid);
  try {
    await lockConfig(vmid, async () => {
      const path = template.startsWith('local:vztmpl/') ? join(templateCacheDir(p), template.slice('local:vztmpl/'.length)) : template;
      if (!existsSync(path)) throw new Error(`volume '${template}' does not exist`);
      // rootfs: STORAGE:SIZE allocates a new volume (size in GiB); default local:4, as the GUI.
      const rootfsProps = parsePropertyString('rootfs', options.rootfs ?? `${storage}:4`);
      const alloc = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(rootfsProps.volume!);
      if (!alloc) throw new Error(`rootfs: only 'STORAGE:SIZE' allocation is supported by the simulator, got '${rootfsProps.volume}'`);
      if (alloc[1] !== 'local') throw new Error(`storage '${alloc[1]}' does not exist`);
      const disk = `vm-${vmid}-disk-0`;
      const dir = join(images, disk);
      mkdirSync(dir, { recursive: true });
      const r = spawnSync('/bin/tar', ['-xpf', path, '-C', dir, '--numeric-owner'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`command 'tar xpf ${path}' failed: exit code ${r.status}\n${r.stderr.trim()}`);
      const unprivileged = options.unprivileged ?? '1';
      if (unprivileged === '1') shiftOwnership(dir, 100000);
      const ostype = options.ostype ?? detectOstype(dir);
      if (!ostype) throw new Error('unable to detect OS distribution');
      const { rootfs: _r, ...rest } = options;
      const props = { ...rootfsProps, volume: `local:${vmid}/${disk}`, size: `${alloc[2]}G` };
      const c: PveConfig = { options: {}, lxc: [] };
      for (const [k, v] of Object.entries({ arch: 'amd64', memory: '512', swap: '512', ...rest, ostype, unprivileged })) {
        setKey(c, k, k === 'tags' ? normalizeTags(v) : v);
      }
      c.options.rootfs = Object.entries(props)
        .map(([k, v]) => (k === 'volume' ? v : `${k}=${v}`))
        .join(',');
      writeConfig(p, vmid, c);
    }, 5);
  } catch (e) {
    rmSync(images, { recursive: true, force: true });
    rmSync(p.confPath(vmid), { force: true });
    updateVmlist(p);
    throw new PveError(`unable to create CT ${vmid} - ${(e as Error).message}`);
  }
  if (startAfter === '1') await start(vmid, {});
}

async function unlock(vmid: number): Promise<void> {
  await lockConfig(vmid, async () => {
    const c = readConfig(p, vmid);
    delete c.options.lock;
    writeConfig(p, vmid, c);
  });
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (!cmd || !COMMANDS[cmd]) {
    const all = Object.values(COMMANDS).map((c) => c.usage);
    throw new PveError(`400 unable to parse option\nUSAGE: ${all.join('\n       ')}`);
  }
  if (cmd === 'list') {
    parseParams(cmd, args);
    return list();
  }
  // Positional arguments come first, options may follow (PVE's CLI accepts them in any order, but
  // every caller we know puts them first).
  const vmid = parseVmid(cmd, args[0]?.startsWith('-') ? undefined : args.shift());
  if (cmd === 'exec') return exec(vmid, args);
  const template = cmd === 'create' && args[0] !== undefined && !args[0].startsWith('-') ? args.shift() : undefined;
  const o = parseParams(cmd, args);
  switch (cmd) {
    case 'config':
      return config(vmid, o);
    case 'set':
      return set(vmid, o);
    case 'start':
      return start(vmid, o);
    case 'stop':
      return stop(vmid, o);
    case 'shutdown':
      return shutdown(vmid, o);
    case 'status':
      return status(vmid, o.verbose === '1');
    case 'destroy':
      return destroy(vmid, o);
    case 'create':
      return create(vmid, template, o);
    case 'unlock':
      return unlock(vmid);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(msg + '\n');
  try {
    appendFileSync(join(p.root, 'run/pve/pct.log'), `${new Date().toISOString()} pct ${process.argv.slice(2).join(' ')}: ${msg}\n`);
  } catch {
    // the log is a convenience
  }
  process.exit(e instanceof PveError ? e.exitCode : 255);
});
