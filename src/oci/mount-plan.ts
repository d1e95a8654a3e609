// What pxoci's two mount programs do in a CT (docs/DESIGN.md "Mounts, devices, masked paths"), and
// the mount options of config.json as mount(2) flags. Pure.
//   LXC's fstab (lxc.mount.fstab): the config's /dev tmpfs, which LXC mounts after its /proc and /sys
//     and before it opens /dev to fill it (see translate/mounts.ts). Written to <runtime dir>/fstab.
//   mount hook (lxc.hook.mount: pxoci-helper mount-hook): before LXC's pivot_root, in the CT's
//     namespaces: config.json's mounts in their order, device placeholders, readonlyPaths,
//     maskedPaths, then root.readonly. Written to <runtime dir>/mounts.
//   ct-setup (pxoci-helper ct-setup, run by create): after it, from the host: device nodes, /dev/ptmx,
//     propagation, which LXC's pivot_root would otherwise undo. Given on its stdin.
import { ConfigError } from './errors.js';

// mount(2) flags (linux/mount.h).
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** runc's option names (libcontainer/specconv): each sets or clears flags. */
const FLAG_OPTIONS: Record<string, { set?: number; clear?: number }> = {
  async: { clear: MS.SYNCHRONOUS },
  atime: { clear: MS.NOATIME },
  bind: { set: MS.BIND },
  defaults: {},
  dev: { clear: MS.NODEV },
  diratime: { clear: MS.NODIRATIME },
  dirsync: { set: MS.DIRSYNC },
  exec: { clear: MS.NOEXEC },
  lazytime: { set: MS.LAZYTIME },
  loud: { clear: MS.SILENT },
  mand: { set: MS.MANDLOCK },
  noatime: { set: MS.NOATIME },
  nodev: { set: MS.NODEV },
  nodiratime: { set: MS.NODIRATIME },
  noexec: { set: MS.NOEXEC },
  nolazytime: { clear: MS.LAZYTIME },
  nomand: { clear: MS.MANDLOCK },
  norelatime: { clear: MS.RELATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  nosuid: { set: MS.NOSUID },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  rbind: { set: MS.BIND | MS.REC },
  relatime: { set: MS.RELATIME },
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  silent: { set: MS.SILENT },
  strictatime: { set: MS.STRICTATIME },
  suid: { clear: MS.NOSUID },
  sync: { set: MS.SYNCHRONOUS },
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

export interface MountOptions {
  /** Flags for mount(2), propagation excluded. */
  flags: number;
  /** Propagation flags (with MS_REC for the r… forms), 0 when none was given. */
  propagation: number;
  /** The rest, for the file system (size=, mode=, …), as runc passes it. */
  data: string[];
  tmpcopyup: boolean;
}

/** config.json's options of one mount, as runc reads them; what pxoci cannot do is refused by name. */
export function parseMountOptions(field: string, options: string[]): MountOptions {
  const out: MountOptions = { flags: 0, propagation: 0, data: [], tmpcopyup: false };
  for (const o of options) {
    // '-' is how the mount hook's plan writes "no data".
    if (/[\s,\0]/.test(o) || o === '' || o === '-') throw new ConfigError(field, `option "${o}" is empty, "-", or contains whitespace or ','`);
    const flag = FLAG_OPTIONS[o];
    if (flag) {
      out.flags = (out.flags & ~(flag.clear ?? 0)) | (flag.set ?? 0);
    } else if (o in PROPAGATION) {
      out.propagation = PROPAGATION[o]!;
    } else if (o === 'tmpcopyup') {
      out.tmpcopyup = true;
    } else if (/^r(ro|rw|nosuid|suid|nodev|dev|noexec|exec|noatime|atime|nodiratime|diratime|relatime|norelatime|strictatime|nostrictatime|nosymfollow|symfollow)$/.test(o)) {
      throw new ConfigError(field, `recursive mount attribute "${o}" is not supported by pxoci`);
    } else if (o === 'idmap' || o === 'ridmap') {
      throw new ConfigError(field, `option "${o}": idmapped mounts are not supported by pxoci`);
    } else if (o === 'remount') {
      throw new ConfigError(field, 'option "remount": a mount in config.json cannot change an existing one');
    } else {
      out.data.push(o);
    }
  }
  return out;
}

/** The flags LXC's fstab reader names (LXC 5.0 conf.c mount_opt), as the option that sets each. */
const LXC_FSTAB_FLAGS: Array<[number, string]> = [
  [MS.RDONLY, 'ro'],
  [MS.NOSUID, 'nosuid'],
  [MS.NODEV, 'nodev'],
  [MS.NOEXEC, 'noexec'],
  [MS.SYNCHRONOUS, 'sync'],
  [MS.DIRSYNC, 'dirsync'],
  [MS.NOATIME, 'noatime'],
  [MS.NODIRATIME, 'nodiratime'],
  [MS.RELATIME, 'relatime'],
  [MS.STRICTATIME, 'strictatime'],
  [MS.LAZYTIME, 'lazytime'],
];

/** A file system mount as a line of LXC's fstab (lxc.mount.fstab): the target relative to the CT's
 *  root, flags by LXC's names, the rest as data, which LXC passes to mount(2) as runc does. */
export function lxcFstabLine(field: string, source: string, destination: string, fstype: string, o: MountOptions): string {
  let left = o.flags;
  const names: string[] = [];
  for (const [flag, name] of LXC_FSTAB_FLAGS) {
    if (left & flag) names.push(name);
    left &= ~flag;
  }
  if (left) throw new ConfigError(`${field}.options`, `mount flags 0x${left.toString(16)} cannot be given to LXC for ${destination}`);
  return `${source} ${destination.replace(/^\/+/, '')} ${fstype} ${[...names, ...o.data].join(',') || 'defaults'} 0 0\n`;
}

export type HookOp =
  | { op: 'mount'; field: string; destination: string; mountPoint: 'dir' | 'file'; source?: string; fstype?: string; flags: number; remountFlags: number; data: string[]; tmpcopyup: boolean }
  | { op: 'node' | 'readonly' | 'mask' | 'rebind'; field: string; path: string }
  | { op: 'root-readonly' };

export type SetupOp =
  | { op: 'device'; field: string; path: string; type: 'c' | 'b' | 'p'; major: number; minor: number; mode: number; uid: number; gid: number }
  | { op: 'ptmx' }
  | { op: 'propagation'; field: string; path: string; flags: number }
  | { op: 'root-propagation'; flags: number };

// Every path and field in a plan was checked by checkPath (no whitespace), so fields are split at
// spaces; '-' stands for an empty one.
const orDash = (s: string | undefined) => (s === undefined || s === '' ? '-' : s);

/** The mount hook's file (native/mount-hook.c reads it). */
export function encodeHookPlan(ops: HookOp[]): string {
  return ops
    .map((o) => {
      switch (o.op) {
        case 'mount':
          return [o.op, o.field, o.destination, o.mountPoint === 'dir' ? 'd' : 'f', orDash(o.source), orDash(o.fstype), o.flags, o.remountFlags, orDash(o.data.join(',')), o.tmpcopyup ? 1 : 0].join(' ');
        case 'root-readonly':
          return o.op;
        default:
          return [o.op, o.field, o.path].join(' ');
      }
    })
    .map((l) => l + '\n')
    .join('');
}

/** ct-setup's stdin (native/ct-setup.c). */
export function encodeSetupPlan(ops: SetupOp[]): string {
  return ops
    .map((o) => {
      switch (o.op) {
        case 'device':
          return [o.op, o.field, o.path, o.type, o.major, o.minor, o.mode.toString(8).padStart(4, '0'), o.uid, o.gid].join(' ');
        case 'ptmx':
          return o.op;
        case 'propagation':
          return [o.op, o.field, o.path, o.flags].join(' ');
        case 'root-propagation':
          return [o.op, o.flags].join(' ');
      }
    })
    .map((l) => l + '\n')
    .join('');
}
