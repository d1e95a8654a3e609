// The cgroups of the simulated node's CTs: where they live, so that several simulated nodes can share
// one host, and their removal when LXC leaves them behind.
import { existsSync, readFileSync, readdirSync, realpathSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from './lazy-builtins.js';

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

/** A number from a CT's cgroup v1 file, as `pct status` reads its usage; 0 when there is none. */
export function ctCgroupValue(root: string, vmid: number, controller: string, file: string): number {
  try {
    return Number(readFileSync(join('/sys/fs/cgroup', controller, cgroupScope(root), 'lxc', String(vmid), file), 'utf8').trim()) || 0;
  } catch {
    return 0;
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
