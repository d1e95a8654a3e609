// What a PVE node says about itself, read the way PVE reads it: which VMIDs the cluster has taken,
// whether a CT runs, a device node's numbers. pxoci and the simulator both ask these questions, so the
// answers live with PVE's rules, not in either program.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PVE_RELEASES, type PveRelease } from './config.js';
import type { NodePaths } from './paths.js';

/** PVE's VMID range (`pve-vmid`: `^[1-9][0-9]{2,8}$`). */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;

function idsIn(dir: string, into: Set<number>): void {
  try {
    for (const name of readdirSync(dir)) {
      const m = /^(\d+)\.conf$/.exec(name);
      if (m) into.add(Number(m[1]));
    }
  } catch {
    // a node without guests of that kind
  }
}

/** The CT configs of this node, by VMID. */
export function ctVmids(paths: NodePaths): number[] {
  const found = new Set<number>();
  idsIn(paths.lxcConfDir, found);
  return [...found].sort((a, b) => a - b);
}

/** Every VMID the cluster knows: .vmlist (pmxcfs' cluster-wide list) and the CT and VM config dirs. */
export function usedVmids(paths: NodePaths): Set<number> {
  const used = new Set<number>();
  try {
    const vmlist = JSON.parse(readFileSync(paths.vmlist, 'utf8')) as { ids?: Record<string, unknown> };
    for (const id of Object.keys(vmlist.ids ?? {})) used.add(Number(id));
  } catch {
    // no .vmlist yet
  }
  const nodes = join(paths.etcPve, 'nodes');
  let nodeNames: string[] = [];
  try {
    nodeNames = readdirSync(nodes);
  } catch {
    nodeNames = [];
  }
  for (const node of nodeNames) {
    idsIn(join(nodes, node, 'lxc'), used);
    idsIn(join(nodes, node, 'qemu-server'), used);
  }
  return used;
}

/** What `pct status` checks: LXC's abstract command socket of the CT is listening. */
export function isCtRunning(paths: NodePaths, vmid: number): boolean {
  try {
    const needle = ` @${paths.lxcPath.replace(/\/+$/, '')}/${vmid}/command`;
    return readFileSync('/proc/net/unix', 'utf8').includes(needle + '\n');
  } catch {
    return false;
  }
}

/** A device node's numbers, as PVE's `get_device_mode_and_rdev` takes them; undefined when not a device. */
export function deviceNumbers(path: string): { kind: 'c' | 'b'; major: number; minor: number } | undefined {
  try {
    const st = statSync(path);
    if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
    // Linux dev_t: major in bits 8-19 (+ high bits), minor in 0-7 and 20-31.
    const rdev = st.rdev;
    return { kind: st.isCharacterDevice() ? 'c' : 'b', major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
  } catch {
    return undefined;
  }
}

/** The PVE packages a node runs, as dpkg records them (`pveversion -v` reads the same). */
export interface PveVersions {
  release: PveRelease;
  /** pve-manager's version: 8.4.1, 9.1.19, … */
  manager: string;
  /** pve-container's version, undefined when it is not installed. */
  container?: string;
}

/** The dpkg status file of the node (`<root>/var/lib/dpkg/status`; pvesim writes one in the same form). */
export function dpkgStatusPath(paths: NodePaths): string {
  return join(paths.root, 'var/lib/dpkg/status');
}

/** The installed version of each named package in a dpkg status file's text. */
function installedVersions(status: string, names: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const stanza of status.split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (!name || !names.includes(name) || !/^Status: \S+ ok installed$/m.test(stanza)) continue;
    const version = /^Version: (\S+)$/m.exec(stanza)?.[1];
    if (version) found[name] = version;
  }
  return found;
}

/**
 * Which PVE the node runs, from pve-manager's installed version; undefined off a PVE node (no
 * pve-manager) or for a major release pxoci does not know.
 */
export function pveVersions(paths: NodePaths): PveVersions | undefined {
  let status: string;
  try {
    status = readFileSync(dpkgStatusPath(paths), 'utf8');
  } catch {
    return undefined;
  }
  const v = installedVersions(status, ['pve-manager', 'pve-container']);
  const major = Number(/^(\d+)\./.exec(v['pve-manager'] ?? '')?.[1]);
  const release = PVE_RELEASES.find((r) => r === major);
  if (!release) return undefined;
  return { release, manager: v['pve-manager']!, container: v['pve-container'] };
}

/** datacenter.cfg's `next-id: lower=…,upper=…`: the range PVE hands out new VMIDs from, [lower, upper). */
export function nextIdRange(paths: NodePaths): { lower: number; upper: number } {
  const range = { lower: VMID_MIN, upper: 1_000_000 };
  let text = '';
  try {
    text = readFileSync(join(paths.etcPve, 'datacenter.cfg'), 'utf8');
  } catch {
    return range;
  }
  const line = /^next-id:\s*(.*?)\s*$/m.exec(text)?.[1] ?? '';
  for (const part of line.split(',')) {
    const m = /^(lower|upper)=(\d+)$/.exec(part.trim());
    if (m) range[m[1] as 'lower' | 'upper'] = Number(m[2]);
  }
  return range;
}

/**
 * The pid of a CT's LXC monitor: `lxc-start -F -n <vmid>` under PVE's pve-container@ unit, `[lxc
 * monitor] <lxcpath> <vmid>` when LXC daemonized it. The monitor outlives the CT's `running` (LXC
 * closes the command socket first) while it runs the post-stop hook, which on PVE writes the CT's
 * config back without PVE's lock. Undefined when there is none.
 */
export function lxcMonitorPid(paths: NodePaths, vmid: number): number | undefined {
  const lxcPath = paths.lxcPath.replace(/\/+$/, '');
  const name = String(vmid);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0] === `[lxc monitor] ${lxcPath} ${name}`) return Number(pid);
    if (!/(^|\/)lxc-start$/.test(argv[0] ?? '')) continue;
    let ctName: string | undefined;
    let ctPath = '/var/lib/lxc';
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '-n' || a === '--name') ctName = argv[++i];
      else if (a.startsWith('--name=')) ctName = a.slice('--name='.length);
      else if (a === '-P' || a === '--lxcpath') ctPath = argv[++i] ?? ctPath;
      else if (a.startsWith('--lxcpath=')) ctPath = a.slice('--lxcpath='.length);
    }
    if (ctName === name && ctPath.replace(/\/+$/, '') === lxcPath) return Number(pid);
  }
  return undefined;
}
