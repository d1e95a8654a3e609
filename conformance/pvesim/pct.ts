// pct for the simulated PVE node: PVE's syntax, output, error texts and exit codes (255 on failure),
// on a node rooted at PXOCI_PVE_ROOT, starting real containers with LXC.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOption, type PveConfig } from '../../src/pve/config.js';
import { withFileLock } from '../../src/pve/lock.js';
import { NodeDriver } from '../../src/runtime/node.js';
import { buildLxcConfig } from './lxcconfig.js';
import {
  PveError,
  ctDir,
  listVmids,
  mountVolumes,
  mountsBelow,
  paths,
  readConfig,
  removeStaleCgroups,
  rootfsDir,
  unmountVolumes,
  updateVmlist,
  writeConfig,
} from './node.js';

const p = paths();
const driver = new NodeDriver(p);
const LXC = (tool: string) => `/usr/bin/${tool}`;

function usageError(cmd: string, errors: Record<string, string>): never {
  const lines = ['400 Parameter verification failed.', ...Object.entries(errors).map(([k, v]) => `${k}: ${v}`), `pct ${cmd} <vmid> [OPTIONS]`];
  throw new PveError(lines.join('\n'));
}

function parseVmid(cmd: string, text: string | undefined): number {
  if (text === undefined) usageError(cmd, { vmid: 'property is missing and it is not optional' });
  if (!/^[1-9][0-9]{2,8}$/.test(text)) usageError(cmd, { vmid: 'invalid format - value does not look like a valid VM ID' });
  return Number(text);
}

/** `--key value` / `--key=value` pairs, PVE style. */
function parseOptions(cmd: string, args: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) usageError(cmd, { [a]: 'too many arguments' });
    const eq = a.indexOf('=');
    if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) o[a.slice(2)] = '1';
      else {
        o[a.slice(2)] = next;
        i++;
      }
    }
  }
  return o;
}

function lockConfig<T>(vmid: number, body: () => Promise<T>): Promise<T> {
  return withFileLock(p.lockPath(vmid), 10, body);
}

function checkLock(config: PveConfig, skiplock: boolean): void {
  if (config.options.lock && !skiplock) throw new PveError(`CT is locked (${config.options.lock})`);
}

function lxcPid(vmid: number): number | undefined {
  const r = spawnSync(LXC('lxc-info'), ['-P', p.lxcPath, '-n', String(vmid), '-p'], { encoding: 'utf8' });
  const m = /^PID:\s+(\d+)$/m.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

async function start(vmid: number, o: Record<string, string>): Promise<void> {
  await lockConfig(vmid, async () => {
    const config = readConfig(p, vmid);
    checkLock(config, o.skiplock === '1');
    if (driver.isRunning(vmid)) throw new PveError(`CT ${vmid} already running`);
    for (const req of ['arch', 'ostype', 'rootfs']) {
      if (!config.options[req] && req !== 'arch') throw new PveError(`unable to detect OS distribution`);
    }
    const dir = ctDir(p, vmid);
    mkdirSync(dir, { recursive: true });
    // Outside the CT's dir, which pct destroy may remove while LXC is still tearing the CT down.
    const hookDir = join(p.root, 'usr/share/lxc/hooks');
    mkdirSync(hookDir, { recursive: true });
    const hook = join(hookDir, 'pvesim-poststop');
    writeFileSync(hook, `#!/bin/sh\n# Like lxc-pve-poststop-hook: release the volumes the start mounted.\n/bin/umount -R '${p.lxcPath}'/"$LXC_NAME"/rootfs 2>/dev/null\nexit 0\n`);
    chmodSync(hook, 0o755);
    const { lines, warnings } = buildLxcConfig(config, vmid, p.root, hook);
    for (const w of warnings) process.stderr.write(`WARN: pvesim: ${w}\n`);
    writeFileSync(join(dir, 'config'), lines.join('\n') + '\n');
    removeStaleCgroups(vmid);
    mountVolumes(p, vmid, config);
    mkdirSync(join(p.root, 'run/pve'), { recursive: true });
    const stderrFile = p.stderrPath(vmid);
    writeFileSync(stderrFile, '');
    // Like the pve-container@ unit: detached from us, stdout discarded, stderr to run/pve/ct-<vmid>.stderr.
    const errFd = openSync(stderrFile, 'a');
    const child = spawn(LXC('lxc-start'), ['-P', p.lxcPath, '-n', String(vmid), '-d', '-o', join(p.root, 'run/pve', `ct-${vmid}.log`), '-l', 'NOTICE'], {
      stdio: ['ignore', 'ignore', errFd],
      detached: true,
    });
    closeSync(errFd);
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 255)));
    const waited = spawnSync(LXC('lxc-wait'), ['-P', p.lxcPath, '-n', String(vmid), '-s', 'RUNNING', '-t', '10']);
    if (code !== 0 || waited.status !== 0 || !driver.isRunning(vmid)) {
      unmountVolumes(p, vmid);
      const detail = readFileSync(stderrFile, 'utf8').trim();
      throw new PveError(`startup for container '${vmid}' failed${detail ? '\n' + detail : ''}`);
    }
  });
}

async function stop(vmid: number, o: Record<string, string>, graceful: boolean): Promise<void> {
  const config = readConfig(p, vmid);
  checkLock(config, o.skiplock === '1');
  if (!driver.isRunning(vmid)) throw new PveError(`CT ${vmid} not running`);
  const args = ['-P', p.lxcPath, '-n', String(vmid)];
  if (graceful) {
    const timeout = o.timeout ?? '60';
    const r = spawnSync(LXC('lxc-stop'), [...args, '--nokill', '--timeout', timeout]);
    if (r.status !== 0) {
      if (o.forceStop !== '1') throw new PveError(`command 'lxc-stop -n ${vmid} --nokill --timeout ${timeout}' failed: exit code 1`);
      spawnSync(LXC('lxc-stop'), [...args, '--kill']);
    }
  } else {
    spawnSync(LXC('lxc-stop'), [...args, '--kill']);
  }
  spawnSync(LXC('lxc-wait'), [...args, '-s', 'STOPPED', '-t', '10']);
  unmountVolumes(p, vmid);
}

function status(vmid: number, verbose: boolean): void {
  const config = readConfig(p, vmid);
  const running = driver.isRunning(vmid);
  if (!verbose) {
    process.stdout.write(`status: ${running ? 'running' : 'stopped'}\n`);
    return;
  }
  const info: Record<string, string> = {
    status: running ? 'running' : 'stopped',
    vmid: String(vmid),
    name: config.options.hostname ?? `CT${vmid}`,
    type: 'lxc',
    maxmem: String(Number(config.options.memory ?? 512) * 1024 * 1024),
    maxswap: String(Number(config.options.swap ?? 0) * 1024 * 1024),
    cpus: config.options.cores ?? '1',
    tags: config.options.tags ?? '',
  };
  if (config.options.lock) info.lock = config.options.lock;
  if (running) {
    const pid = lxcPid(vmid);
    if (pid) info.pid = String(pid);
  }
  for (const k of Object.keys(info).sort()) process.stdout.write(`${k}: ${info[k]}\n`);
}

function list(): void {
  const rows = listVmids(p).map((vmid) => {
    const config = readConfig(p, vmid, true);
    return [String(vmid), driver.isRunning(vmid) ? 'running' : 'stopped', config.options.lock ?? '', config.options.hostname ?? ''];
  });
  if (rows.length === 0) return;
  const line = (r: string[]) => `${r[0]!.padEnd(10)} ${r[1]!.padEnd(10)} ${r[2]!.padEnd(12)} ${r[3]!.padEnd(20)}\n`;
  process.stdout.write(line(['VMID', 'Status', 'Lock', 'Name']));
  for (const r of rows) process.stdout.write(line(r));
}

function config(vmid: number): void {
  const c = readConfig(p, vmid);
  if (c.description) process.stdout.write(`description: ${c.description.replace(/\n$/, '').replace(/\n/g, '\\n')}\n`);
  for (const k of Object.keys(c.options).sort()) process.stdout.write(`${k}: ${c.options[k]}\n`);
  for (const [k, v] of c.lxc) process.stdout.write(`${k}: ${v}\n`);
}

async function set(vmid: number, o: Record<string, string>): Promise<void> {
  const { delete: del, digest, skiplock, ...changes } = o;
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(changes)) {
    const err = checkOption(k, v);
    if (err) errors[k] = err;
  }
  if (Object.keys(errors).length) usageError('set', errors);
  await lockConfig(vmid, async () => {
    const text = existsSync(p.confPath(vmid)) ? readFileSync(p.confPath(vmid)) : undefined;
    const c = readConfig(p, vmid);
    if (digest && createHash('sha1').update(text!).digest('hex') !== digest) {
      throw new PveError('detected modified configuration - file changed by other user? Try again.');
    }
    checkLock(c, skiplock === '1');
    for (const k of (del ?? '').split(/[,;\s]+/).filter(Boolean)) delete c.options[k];
    Object.assign(c.options, changes);
    writeConfig(p, vmid, c);
    if (driver.isRunning(vmid)) hotplug(vmid, c, Object.keys(changes));
  });
}

/** PVE applies memory, swap, cpulimit and cpuunits to a running CT at once; so does the simulator. */
function hotplug(vmid: number, c: PveConfig, changed: string[]): void {
  const live = ['memory', 'swap', 'cpulimit', 'cpuunits'];
  if (!changed.some((k) => live.includes(k))) return;
  const { lines } = buildLxcConfig({ options: c.options, lxc: [] }, vmid, p.root, '/bin/true');
  for (const line of lines) {
    const m = /^lxc\.cgroup\.([a-z_.]+) = (.*)$/.exec(line);
    if (!m || !/^(memory\.(limit_in_bytes|memsw\.limit_in_bytes)|cpu\.(cfs_quota_us|cfs_period_us|shares))$/.test(m[1]!)) continue;
    spawnSync(LXC('lxc-cgroup'), ['-P', p.lxcPath, '-n', String(vmid), m[1]!, m[2]!]);
  }
}

async function destroy(vmid: number, o: Record<string, string>): Promise<void> {
  await lockConfig(vmid, async () => {
    const c = readConfig(p, vmid);
    if (c.options.protection === '1') throw new PveError(`can't remove CT ${vmid} - protection mode enabled`);
    if (driver.isRunning(vmid)) {
      if (o.force !== '1') throw new PveError(`unable to destroy CT ${vmid} - container is running`);
      spawnSync(LXC('lxc-stop'), ['-P', p.lxcPath, '-n', String(vmid), '--kill']);
    }
    checkLock(c, false);
    unmountVolumes(p, vmid);
    // Never delete what a bind mount shows: refuse while anything is still mounted there.
    if (mountsBelow(rootfsDir(p, vmid)).length > 0) throw new PveError(`unable to destroy CT ${vmid} - volumes still mounted`);
    rmSync(p.confPath(vmid), { force: true });
    rmSync(ctDir(p, vmid), { recursive: true, force: true });
    rmSync(join(p.root, 'var/lib/vz/images', String(vmid)), { recursive: true, force: true });
    updateVmlist(p);
  });
}

async function exec(vmid: number, args: string[]): Promise<never> {
  const dashdash = args.indexOf('--');
  const opts = parseOptions('exec', dashdash >= 0 ? args.slice(0, dashdash) : []);
  const cmd = dashdash >= 0 ? args.slice(dashdash + 1) : args;
  readConfig(p, vmid);
  if (!driver.isRunning(vmid)) throw new PveError(`container '${vmid}' not running!`);
  const keep = opts['keep-env'] === undefined || opts['keep-env'] === '1';
  const r = spawnSync(LXC('lxc-attach'), ['-P', p.lxcPath, '-n', String(vmid), keep ? '--keep-env' : '--clear-env', '--', ...cmd], { stdio: 'inherit' });
  process.exit(r.status ?? 255);
}

async function create(vmid: number, template: string | undefined, o: Record<string, string>): Promise<void> {
  if (!template) usageError('create', { ostemplate: 'property is missing and it is not optional' });
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'rootfs' && k !== 'storage') {
    const err = checkOption(k, v);
    if (err) errors[k] = err;
  }
  if (Object.keys(errors).length) usageError('create', errors);
  mkdirSync(p.lxcConfDir, { recursive: true });
  try {
    writeFileSync(p.confPath(vmid), 'lock: create\n', { flag: 'wx', mode: 0o640 });
  } catch {
    throw new PveError(`CT ${vmid} already exists on node '${p.node}'`);
  }
  const disk = `vm-${vmid}-disk-0`;
  const dir = join(p.root, 'var/lib/vz/images', String(vmid), disk);
  try {
    const path = template.startsWith('local:vztmpl/') ? join(p.root, 'var/lib/vz/template/cache', template.slice(13)) : template;
    if (!existsSync(path)) throw new PveError(`volume '${template}' does not exist`);
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('/bin/tar', ['-xpf', path, '-C', dir, '--numeric-owner'], { encoding: 'utf8' });
    if (r.status !== 0) throw new PveError(`extracting archive '${path}' failed: ${r.stderr.trim()}`);
    const { rootfs: _rootfs, storage: _storage, ...rest } = o;
    const config: PveConfig = {
      options: { arch: 'amd64', ostype: 'unmanaged', unprivileged: '1', swap: '512', ...rest, rootfs: `local:${vmid}/${disk},size=8G` },
      lxc: [],
    };
    await lockConfig(vmid, async () => writeConfig(p, vmid, config));
  } catch (e) {
    rmSync(join(p.root, 'var/lib/vz/images', String(vmid)), { recursive: true, force: true });
    rmSync(p.confPath(vmid), { force: true });
    updateVmlist(p);
    throw new PveError(`unable to create CT ${vmid} - ${(e as Error).message}`);
  }
}

async function unlock(vmid: number): Promise<void> {
  await lockConfig(vmid, async () => {
    const c = readConfig(p, vmid);
    delete c.options.lock;
    writeConfig(p, vmid, c);
  });
}

async function main(argv: string[]): Promise<void> {
  const [cmd, vmidText, ...rest] = argv;
  const known = ['config', 'set', 'start', 'stop', 'shutdown', 'status', 'list', 'destroy', 'exec', 'create', 'unlock'];
  if (!cmd || !known.includes(cmd)) {
    throw new PveError(`400 unable to parse option\nUSAGE: pct <COMMAND> [ARGS] [OPTIONS]\n       ${known.map((c) => `pct ${c}`).join('\n       ')}`);
  }
  if (cmd === 'list') return list();
  const vmid = parseVmid(cmd, vmidText);
  if (cmd === 'exec') return exec(vmid, rest);
  const positional = cmd === 'create' && rest[0] && !rest[0].startsWith('--') ? rest.shift() : undefined;
  const o = parseOptions(cmd, rest);
  switch (cmd) {
    case 'config':
      return config(vmid);
    case 'set':
      return set(vmid, o);
    case 'start':
      return start(vmid, o);
    case 'stop':
      return stop(vmid, o, false);
    case 'shutdown':
      return stop(vmid, o, true);
    case 'status':
      return status(vmid, o.verbose === '1');
    case 'destroy':
      return destroy(vmid, o);
    case 'create':
      return create(vmid, positional, o);
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
