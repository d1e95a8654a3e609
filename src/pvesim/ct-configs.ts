// The CT configs of the simulated node in etc/pve, the .vmlist pmxcfs would keep next to them, and the
// PVE release the node runs (which pve-container reads and writes them).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PVE_RELEASE_LATEST, parsePctConfig, writePctConfig, type PveConfig, type PveRelease } from '../pve/config.js';
import { pveVersions } from '../pve/node-facts.js';
import type { NodePaths } from '../pve/paths.js';
import { atomicWrite } from '../lib/atomic-files.js';
import { PveError } from './pve-error.js';

let release: PveRelease | undefined;

/** The node's PVE release, from the dpkg status `pvesim env --pve` wrote (PVE 9 if it wrote none). */
export function nodeRelease(p: NodePaths): PveRelease {
  return (release ??= pveVersions(p)?.release ?? PVE_RELEASE_LATEST);
}

export function readConfig(p: NodePaths, vmid: number, quiet = false): PveConfig {
  let text: string;
  try {
    text = readFileSync(p.confPath(vmid), 'utf8');
  } catch {
    throw new PveError(`Configuration file '${p.confRelative(vmid)}' does not exist`);
  }
  const { config, warnings } = parsePctConfig(text, vmid, nodeRelease(p));
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

/** Every guest of the cluster: CTs and VMs (qemu-server) of each node, which share one VMID space. */
export function clusterGuests(p: NodePaths): Map<number, { node: string; type: 'lxc' | 'qemu' }> {
  const guests = new Map<number, { node: string; type: 'lxc' | 'qemu' }>();
  const nodesDir = join(p.etcPve, 'nodes');
  let nodes: string[] = [];
  try {
    nodes = readdirSync(nodesDir);
  } catch {
    nodes = [];
  }
  for (const node of nodes.sort()) {
    for (const [dir, type] of [['lxc', 'lxc'], ['qemu-server', 'qemu']] as const) {
      let names: string[] = [];
      try {
        names = readdirSync(join(nodesDir, node, dir));
      } catch {
        names = [];
      }
      for (const name of names) {
        const m = /^(\d+)\.conf$/.exec(name);
        if (m && !guests.has(Number(m[1]))) guests.set(Number(m[1]), { node, type });
      }
    }
  }
  return guests;
}

/** pmxcfs keeps .vmlist current on a real node; the simulator rewrites it after each change. */
export function updateVmlist(p: NodePaths): void {
  const ids: Record<string, { node: string; type: string; version: number }> = {};
  for (const [vmid, guest] of [...clusterGuests(p)].sort(([a], [b]) => a - b)) ids[String(vmid)] = { ...guest, version: 1 };
  let version = 1;
  try {
    version = (JSON.parse(readFileSync(p.vmlist, 'utf8')) as { version: number }).version + 1;
  } catch {
    // first write
  }
  atomicWrite(p.vmlist, JSON.stringify({ version, ids }, null, 1) + '\n', 0o440);
}
