// What a simulated node holds for pxoci, looked at from outside pxoci: CT configs, mounts, lock
// holders, helper processes. The crash, load and ownership tests assert that nothing is left.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dist, type SimNode } from './env.js';
import { capabilityName } from '../../src/oci/capabilities.js';

/** VMIDs with a CT config on any node of the simulated cluster. */
export function ctConfigs(node: SimNode): number[] {
  const dir = join(node.root, 'etc/pve/nodes');
  return readdirSync(dir)
    .flatMap((n) => {
      try {
        return readdirSync(join(dir, n, 'lxc'));
      } catch {
        return [];
      }
    })
    .map((f) => /^(\d+)\.conf$/.exec(f)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** `pct list` of the simulated node: empty once no CT is left. */
export function pctList(node: SimNode): string {
  return spawnSync(join(node.root, 'usr/sbin/pct'), ['list'], { env: node.env, encoding: 'utf8' }).stdout;
}

export function confText(node: SimNode, vmid: number): string {
  return readFileSync(join(node.root, 'etc/pve/nodes', node.env.PXOCI_PVE_NODE!, 'lxc', `${vmid}.conf`), 'utf8');
}

export function mountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(path));
}

/** Live processes whose command line mentions `needle` (a state dir, a node root). */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) found.push(`${name}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // gone
    }
  }
  return found;
}

/** PVE config lock files that someone still holds (flock with no wait fails). */
export function heldLocks(node: SimNode): string[] {
  const dir = join(node.root, 'run/lock/lxc');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.lock'));
  } catch {
    return [];
  }
  return files.filter((f) => {
    const r = spawnSync(join(dist, 'pxoci-helper'), ['lock', join(dir, f), '0'], { input: '', encoding: 'utf8' });
    return r.stdout !== 'locked\n';
  });
}

/** Everything pxoci could leave behind for container `id`, empty when nothing is. */
export function leftovers(node: SimNode, id: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const confs = ctConfigs(node);
  if (confs.length) out.confs = confs;
  try {
    readdirSync(join(node.stateRoot, id));
    out.stateDir = join(node.stateRoot, id);
  } catch {
    // gone, as it should be
  }
  const mounts = mountsUnder(node.root);
  if (mounts.length) out.mounts = mounts;
  const procs = processesMentioning(join(node.stateRoot, id) + "/");
  if (procs.length) out.processes = procs;
  const locks = heldLocks(node);
  if (locks.length) out.heldLocks = locks;
  return out;
}

/** A capability this kernel knows but the node's bounding set lacks (our VMs lack CAP_SYS_RESOURCE), or
 *  undefined on a node that has them all. A CT started here cannot grant it to its process. */
export function hostBoundingGap(): string | undefined {
  const bounding = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!);
  const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  for (let n = 0; n <= lastCap; n++) {
    const name = capabilityName(n);
    if (name && !(bounding & (1n << BigInt(n)))) return name;
  }
  return undefined;
}
