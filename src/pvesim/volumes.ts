// The simulated `local` storage and a CT's volumes mounted onto var/lib/lxc/<vmid>/rootfs, as PVE's
// prestart hook mounts them (and its post-stop hook releases them).
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parsePropertyString, type PveConfig } from '../pve/config.js';
import type { NodePaths } from '../pve/paths.js';
import { spawnSync } from './lazy-builtins.js';
import { PveError } from './pve-error.js';
import { shellQuote } from './shell-quote.js';

const MOUNT = '/bin/mount';
const UMOUNT = '/bin/umount';

export function ctDir(p: NodePaths, vmid: number): string {
  return join(p.lxcPath, String(vmid));
}

export function rootfsDir(p: NodePaths, vmid: number): string {
  return join(ctDir(p, vmid), 'rootfs');
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
  const r = sh(MOUNT, ['--bind', src, dest]);
  if (r.code !== 0) throw new PveError(`mount ${src} on ${dest} failed: ${r.stderr.trim()}`);
  if (ro || options.length) {
    const opts = ['remount', 'bind', ...(ro ? ['ro'] : []), ...options].join(',');
    const rr = sh(MOUNT, ['-o', opts, dest]);
    if (rr.code !== 0) throw new PveError(`remount ${dest} (${opts}) failed: ${rr.stderr.trim()}`);
  }
}

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

/**
 * Like lxc-pve-poststop-hook: releases the volumes the start mounted. Kept outside the CT's dir, which
 * pct destroy may remove while LXC is still tearing the CT down. Returns its path.
 */
export function installPostStopHook(p: NodePaths): string {
  const hookDir = join(p.root, 'usr/share/lxc/hooks');
  mkdirSync(hookDir, { recursive: true });
  const hook = join(hookDir, 'pvesim-poststop');
  writeFileSync(hook, `#!/bin/sh\n# Like lxc-pve-poststop-hook: release the volumes the start mounted.\n${UMOUNT} -R ${shellQuote(p.lxcPath)}/"$LXC_NAME"/rootfs 2>/dev/null\nexit 0\n`);
  chmodSync(hook, 0o755);
  return hook;
}
