// The simulated node's shared machinery: configs on disk, .vmlist, mounts like PVE's prestart hook.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parsePctConfig, parsePropertyString, writePctConfig, type PveConfig } from '../pve/config.js';
import { nodePaths, type NodePaths } from '../pve/paths.js';
import { atomicWrite } from '../lib/atomic-files.js';
import { createHash, spawnSync } from './builtins.js';

export class PveError extends Error {
  constructor(
    message: string,
    readonly exitCode = 255,
  ) {
    super(message);
  }
}

export function paths(): NodePaths {
  return nodePaths();
}

export function readConfig(p: NodePaths, vmid: number, quiet = false): PveConfig {
  let text: string;
  try {
    text = readFileSync(p.confPath(vmid), 'utf8');
  } catch {
    throw new PveError(`Configuration file '${p.confRelative(vmid)}' does not exist`);
  }
  const { config, warnings } = parsePctConfig(text, vmid);
  if (!quiet) for (const w of warnings) process.stderr.write(w + '\n');
  return config;
}

export function writeConfig(p: NodePaths, vmid: number, config: PveConfig): void {
  let text: string;
  try {
    text = writePctConfig(config);
  } catch (e) {
    throw new PveError((e as Error).message);
  }
  atomicWrite(p.confPath(vmid), text);
  updateVmlist(p);
}

export function listVmids(p: NodePaths): number[] {
  try {
    return readdirSync(p.lxcConfDir)
      .map((f) => /^(\d+)\.conf$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** pmxcfs keeps .vmlist current on a real node; the simulator rewrites it after each change. */
export function updateVmlist(p: NodePaths): void {
  const ids: Record<string, { node: string; type: string; version: number }> = {};
  for (const vmid of listVmids(p)) ids[String(vmid)] = { node: p.node, type: 'lxc', version: 1 };
  let version = 1;
  try {
    version = (JSON.parse(readFileSync(p.vmlist, 'utf8')) as { version: number }).version + 1;
  } catch {
    // first write
  }
  atomicWrite(p.vmlist, JSON.stringify({ version, ids }, null, 1) + '\n', 0o440);
}

export function ctDir(p: NodePaths, vmid: number): string {
  return join(p.lxcPath, String(vmid));
}

export function rootfsDir(p: NodePaths, vmid: number): string {
  return join(ctDir(p, vmid), 'rootfs');
}

/** Storage volumes of the simulated `local` storage live below var/lib/vz. */
export function volumePath(p: NodePaths, volume: string): string {
  if (volume.startsWith('/')) return volume;
  const m = /^local:(\d+)\/(.+)$/.exec(volume);
  if (!m) throw new PveError(`unable to parse volume ID '${volume}'`);
  return join(p.root, 'var/lib/vz/images', m[1]!, m[2]!);
}

function sh(cmd: string, args: string[]): { code: number; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? 255, stderr: r.stderr ?? '' };
}

export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Like lxc-pve-prestart-hook: the rootfs volume, then every mpN, bind-mounted in the host. */
export function mountVolumes(p: NodePaths, vmid: number, config: PveConfig): void {
  const target = rootfsDir(p, vmid);
  mkdirSync(target, { recursive: true });
  unmountVolumes(p, vmid);
  const rootfs = parsePropertyString('rootfs', config.options.rootfs ?? '');
  const source = volumePath(p, rootfs.volume ?? '');
  if (!existsSync(source)) throw new PveError(`mount point '${source}' does not exist`);
  bind(source, target, rootfs.ro === '1', []);
  const mps = Object.keys(config.options)
    .filter((k) => /^mp\d+$/.test(k))
    .map((k) => ({ key: k, ...parsePropertyString('mp', config.options[k]!) }) as Record<string, string>)
    .sort((a, b) => (a.mp ?? '').split('/').length - (b.mp ?? '').split('/').length);
  for (const mp of mps) {
    const src = volumePath(p, mp.volume ?? '');
    const dest = join(target, mp.mp ?? '');
    if (!existsSync(src)) throw new PveError(`${mp.key}: mount point '${src}' does not exist`);
    // PVE mounts below the rootfs with openat() walks; a symlink in the CT must not lead outside it.
    const existing = nearestExisting(dest);
    if (!isBelow(realpathSync(existing), realpathSync(target))) throw new PveError(`${mp.key}: mount point '${mp.mp}' leaves the container's rootfs`);
    if (statSync(src).isDirectory()) mkdirSync(dest, { recursive: true });
    else if (!existsSync(dest)) {
      mkdirSync(join(dest, '..'), { recursive: true });
      writeFileSync(dest, '');
    }
    bind(src, dest, mp.ro === '1', (mp.mountoptions ?? '').split(';').filter(Boolean));
  }
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p)) p = join(p, '..');
  return p;
}

function isBelow(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + '/');
}

function bind(src: string, dest: string, ro: boolean, options: string[]): void {
  const r = sh('/bin/mount', ['--bind', src, dest]);
  if (r.code !== 0) throw new PveError(`mount ${src} on ${dest} failed: ${r.stderr.trim()}`);
  if (ro || options.length) {
    const opts = ['remount', 'bind', ...(ro ? ['ro'] : []), ...options].join(',');
    const rr = sh('/bin/mount', ['-o', opts, dest]);
    if (rr.code !== 0) throw new PveError(`remount ${dest} (${opts}) failed: ${rr.stderr.trim()}`);
  }
}

export function unmountVolumes(p: NodePaths, vmid: number): void {
  const target = rootfsDir(p, vmid);
  if (mountsBelow(target).length === 0) return;
  sh('/bin/umount', ['-R', target]);
  if (mountsBelow(target).length > 0) sh('/bin/umount', ['-R', '-l', target]);
}

function rmdirTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return;
  }
  for (const e of entries) rmdirTree(join(dir, e));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes, or already gone
  }
}

/**
 * Where this node's CT cgroups live, relative to each hierarchy's root. A real node uses `lxc/<vmid>`
 * and `lxc.monitor/<vmid>`; several simulated nodes on one host would share those (every node has a
 * CT 100), so a simulated node below a directory keeps them under `pvesim-<hash of its root>/`.
 */
export function cgroupScope(root: string): string {
  if (root === '/' || root === '') return '';
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    // not made yet: the name is still stable
  }
  return `pvesim-${createHash('sha1').update(real).digest('hex').slice(0, 10)}/`;
}

/**
 * LXC refuses to start a CT whose fixed cgroup (lxc.cgroup.dir.monitor = lxc.monitor/<vmid>) still
 * exists; a monitor that was killed leaves it behind. Empty leftovers of a stopped CT are removed.
 */
export function removeStaleCgroups(root: string, vmid: number): void {
  const scope = cgroupScope(root);
  for (const h of cgroupHierarchies()) {
    rmdirTree(join(h, scope, 'lxc.monitor', String(vmid)));
    rmdirTree(join(h, scope, 'lxc', String(vmid)));
  }
}

/** `pvesim down`: the node's own cgroup subtree goes with it (only empty groups can be removed). */
export function removeNodeCgroups(root: string): void {
  const scope = cgroupScope(root);
  if (!scope) return;
  // LXC may still be tearing down a CT just stopped (its groups are busy a moment longer).
  for (let attempt = 0; attempt < 30; attempt++) {
    const left = cgroupHierarchies().filter((h) => existsSync(join(h, scope)));
    if (left.length === 0) return;
    for (const h of left) rmdirTree(join(h, scope));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

function cgroupHierarchies(): string[] {
  const hierarchies = ['/sys/fs/cgroup'];
  try {
    for (const d of readdirSync('/sys/fs/cgroup')) hierarchies.push(join('/sys/fs/cgroup', d));
  } catch {
    return [];
  }
  return hierarchies;
}
