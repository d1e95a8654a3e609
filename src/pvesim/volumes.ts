// The simulated `local` storage, and a CT's volumes and devices as lxc-pve's hooks set them up: the
// pre-start hook mounts rootfs, mp0, mp1, … in key order onto var/lib/lxc/<vmid>/rootfs (in the
// monitor's mount namespace, which lxc.monitor.unshare keeps from the host) and makes the devN nodes;
// the post-stop hook unmounts. The hooks themselves are in lxc-hooks.ts.
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePropertyString, type PveConfig, type PveRelease } from '../pve/config.js';
import type { NodePaths } from '../pve/paths.js';
import { spawnSync } from './lazy-builtins.js';
import { PveError } from './pve-error.js';

const MOUNT = '/bin/mount';
const UMOUNT = '/bin/umount';
const MKNOD = '/bin/mknod';

export function ctDir(p: NodePaths, vmid: number): string {
  return join(p.lxcPath, String(vmid));
}

export function rootfsDir(p: NodePaths, vmid: number): string {
  return join(ctDir(p, vmid), 'rootfs');
}

/** Where PVE's pre-start hook makes a devN node (a tmpfs at var/lib/lxc/<vmid>/passthrough). */
export function passthroughNode(ctDirPath: string, devPath: string): string {
  return join(ctDirPath, 'passthrough', devPath);
}

/** The images of the simulated `local` storage that belong to a CT. */
export function imagesDir(p: NodePaths, vmid: number | string): string {
  return join(p.root, 'var/lib/vz/images', String(vmid));
}

/** Where `local:vztmpl/<name>` templates are. */
export function templateCacheDir(p: NodePaths): string {
  return join(p.root, 'var/lib/vz/template/cache');
}

/** Storage volumes of the simulated `local` storage live below var/lib/vz. */
export function volumePath(p: NodePaths, volume: string): string {
  if (volume.startsWith('/')) return volume;
  const m = /^local:(\d+)\/(.+)$/.exec(volume);
  if (!m) throw new PveError(`unable to parse volume ID '${volume}'`);
  return join(imagesDir(p, m[1]!), m[2]!);
}

function sh(cmd: string, args: string[]): { code: number; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? 255, stderr: r.stderr ?? '' };
}

/** Runs a command as PVE's run_command does: a failure dies with its text. */
function run(cmd: string, args: string[]): void {
  const r = sh(cmd, args);
  if (r.code !== 0) throw new PveError(`command '${[cmd.replace(/^\/bin\//, ''), ...args].join(' ')}' failed: exit code ${r.code}${r.stderr.trim() ? `\n${r.stderr.trim()}` : ''}`);
}

export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** The volume keys of a CT in the order PVE mounts them (foreach_volume): rootfs, mp0, mp1, … mp255. */
export function volumeKeys(options: Record<string, string>): string[] {
  return ['rootfs', ...Object.keys(options).filter((k) => /^mp\d+$/.test(k)).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)))].filter(
    (k) => options[k] !== undefined,
  );
}

/** parse_id_maps: the CT's id map and the host ids of its root (100000 for a default unprivileged CT). */
export function ctIdMap(conf: PveConfig): { map: Array<[string, number, number, number]>; rootUid: number; rootGid: number } {
  const map: Array<[string, number, number, number]> = [];
  let rootUid = 0;
  let rootGid = 0;
  for (const [key, value] of conf.lxc) {
    if (key !== 'lxc.idmap') continue;
    const m = /^([ug])\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(value);
    if (!m) throw new PveError(`failed to parse idmap: ${value}`);
    const [type, ct, host, length] = [m[1]!, Number(m[2]), Number(m[3]), Number(m[4])];
    map.push([type, ct, host, length]);
    if (ct === 0 && type === 'u') rootUid = host;
    if (ct === 0 && type === 'g') rootGid = host;
  }
  if (!map.length && conf.options.unprivileged === '1') {
    map.push(['u', 0, 100000, 65536], ['g', 0, 100000, 65536]);
    rootUid = rootGid = 100000;
  }
  return { map, rootUid, rootGid };
}

function mapToHost(id: number, map: Array<[string, number, number, number]>, type: 'u' | 'g'): number {
  for (const [t, ct, host, length] of map) if (t === type && id >= ct && id < ct + length) return host - ct + id;
  return id;
}

const STRERROR: Record<string, string> = { ENOENT: 'No such file or directory', EACCES: 'Permission denied', EROFS: 'Read-only file system' };

/**
 * walk_tree_nofollow: follows `sub` below `startPath` one component at a time without following a
 * symlink (any symlink or non-directory component dies `symlink encountered at: …`); with `create`,
 * makes each missing directory (0755) owned by the CT's root. `startName` is how PVE's message begins
 * the path ('/', so that a host path reads `//tmp/x`).
 */
function walkNoFollow(startName: string, startPath: string, sub: string, create?: { uid: number; gid: number }): string {
  let dir = startName;
  let path = startPath;
  for (const component of sub.split('/').filter((c) => c.length > 0)) {
    dir += `/${component}`;
    const next = component === '.' ? path : join(path, component);
    let st = lstatOrUndefined(next);
    if (st && (st.isSymbolicLink() || !st.isDirectory())) throw new PveError(`symlink encountered at: ${dir}`);
    if (!st) {
      if (!create) throw new PveError(`cannot open directory ${dir}: No such file or directory`);
      try {
        mkdirSync(next, 0o755);
      } catch {
        // as PVE: only whether the directory is there afterwards counts
      }
      let code = 'ENOENT';
      try {
        st = lstatSync(next);
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code ?? code;
      }
      if (!st) throw new PveError(`failed to create path: ${dir}: ${STRERROR[code] ?? code}`);
      if (st.isSymbolicLink() || !st.isDirectory()) throw new PveError(`symlink encountered at: ${dir}`);
      lchownSync(next, create.uid, create.gid);
    }
    path = next;
  }
  return path;
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** __mountpoint_mount for the volume kinds of the simulated node: a bind (a host directory or a
 *  `local` volume, a directory too) or a block device. */
function mountVolume(p: NodePaths, key: string, mp: Record<string, string>, dest: string): void {
  const volume = mp.volume!;
  const ro = mp.ro === '1';
  const options = (mp.mountoptions ?? '').split(';').filter((o) => o && (!ro || /^(nodev|noexec|nosuid)$/.test(o)));
  const extra = options.length ? ['-o', options.join(',')] : [];
  if (volume.startsWith('/dev/')) {
    run(MOUNT, [...(ro ? ['-o', 'ro'] : []), ...extra, volume, dest]);
    return;
  }
  const source = volumePath(p, volume);
  // A bind: the source must be a directory (a file cannot be an mpN) without a symlink on its way.
  if (volume.startsWith('/') && !isDirectory(source)) throw new PveError(`directory '${volume}' does not exist`);
  if (!volume.startsWith('/') && !isDirectory(source)) throw new PveError(`${key}: volume '${volume}' does not exist`);
  walkNoFollow('/', '/', source);
  run(MOUNT, ['-o', 'bind', ...extra, source, dest]);
  if (ro) {
    const r = sh(MOUNT, ['-o', 'bind,remount,ro', dest]);
    if (r.code !== 0) {
      sh(UMOUNT, [dest]);
      throw new PveError(`bindmount error\ncommand 'mount -o bind,remount,ro ${dest}' failed: exit code ${r.code}`);
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What lxc-pve-prestart-hook does with a CT's volumes and devices: the rootfs, then each mpN in key
 * order (mount points made, parents too, and owned by the CT's root; a later mount may hide an earlier
 * one), then the devN nodes in the passthrough tmpfs.
 */
export function prestartVolumes(p: NodePaths, vmid: number, conf: PveConfig, pve: PveRelease): void {
  const rootdir = rootfsDir(p, vmid);
  // A CT mounted with `pct mount` is unmounted first.
  sh(UMOUNT, ['--recursive', rootdir]);
  const { map, rootUid, rootGid } = ctIdMap(conf);
  const owner = { uid: rootUid, gid: rootGid };
  for (const key of volumeKeys(conf.options)) {
    const mp = parsePropertyString(key === 'rootfs' ? 'rootfs' : 'mp', conf.options[key]!, { pve });
    // The rootfs goes to the host path PVE controls; every mpN is walked inside the mounted rootfs.
    const dest = key === 'rootfs' ? walkNoFollow('/', '/', rootdir, owner) : walkNoFollow('/', rootdir, `./${mp.mp}`, owner);
    mountVolume(p, key, mp, dest);
  }
  const devices = Object.keys(conf.options).filter((k) => /^dev\d+$/.test(k));
  if (!devices.length) return;
  const passthrough = join(ctDir(p, vmid), 'passthrough');
  mkdirSync(passthrough, { recursive: true });
  const tmpfs = sh(MOUNT, ['-t', 'tmpfs', '-o', 'size=8k', 'none', passthrough]);
  if (tmpfs.code !== 0) throw new PveError(`Could not mount tmpfs for device passthrough at ${passthrough}: ${tmpfs.stderr.trim()}`);
  for (const key of devices) {
    const dev = parsePropertyString('dev', conf.options[key]!, { pve });
    let st;
    try {
      st = statSync(dev.path!);
    } catch {
      throw new PveError(`Could not get mode or device ID of ${dev.path}`);
    }
    const node = passthroughNode(ctDir(p, vmid), dev.path!);
    mkdirSync(dirname(node), { recursive: true });
    const major = (st.rdev >> 8) & 0xfff;
    const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    const made = sh(MKNOD, [node, st.isBlockDevice() ? 'b' : 'c', String(major), String(minor)]);
    if (made.code !== 0) throw new PveError(`failed to mknod ${node}: ${made.stderr.trim()}`);
    chmodSync(node, dev.mode !== undefined ? parseInt(dev.mode, 8) : 0o660);
    chownSync(node, mapToHost(Number(dev.uid ?? 0), map, 'u'), mapToHost(Number(dev.gid ?? 0), map, 'g'));
  }
}

/** The post-stop hook's `umount --recursive` of the rootfs (in the monitor's namespace). */
export function unmountVolumes(p: NodePaths, vmid: number): void {
  const target = rootfsDir(p, vmid);
  if (mountsBelow(target).length === 0) return;
  sh(UMOUNT, ['-R', target]);
  if (mountsBelow(target).length > 0) sh(UMOUNT, ['-R', '-l', target]);
}

/** `pvesim down`: whatever is still mounted below the node, deepest first. */
export function unmountAllBelow(dir: string): void {
  for (const mount of mountsBelow(dir).sort((a, b) => b.length - a.length)) sh(UMOUNT, ['-l', mount]);
}

/** The hooks LXC runs for this node's CTs (shims `pvesim env` writes), kept outside the CTs' dirs,
 *  which pct destroy may remove while LXC is still tearing a CT down. */
export function simHookPaths(p: NodePaths): { preStart: string; postStop: string } {
  const hookDir = join(p.root, 'usr/share/lxc/hooks');
  return { preStart: join(hookDir, 'pvesim-prestart-hook'), postStop: join(hookDir, 'pvesim-poststop-hook') };
}
