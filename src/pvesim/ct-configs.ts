// The CT configs of the simulated node in etc/pve, and the .vmlist pmxcfs would keep next to them.
import { readFileSync } from 'node:fs';
import { parsePctConfig, writePctConfig, type PveConfig } from '../pve/config.js';
import { ctVmids } from '../pve/node-facts.js';
import type { NodePaths } from '../pve/paths.js';
import { atomicWrite } from '../lib/atomic-files.js';
import { PveError } from './pve-error.js';

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

/** pmxcfs keeps .vmlist current on a real node; the simulator rewrites it after each change. */
export function updateVmlist(p: NodePaths): void {
  const ids: Record<string, { node: string; type: string; version: number }> = {};
  for (const vmid of ctVmids(p)) ids[String(vmid)] = { node: p.node, type: 'lxc', version: 1 };
  let version = 1;
  try {
    version = (JSON.parse(readFileSync(p.vmlist, 'utf8')) as { version: number }).version + 1;
  } catch {
    // first write
  }
  atomicWrite(p.vmlist, JSON.stringify({ version, ids }, null, 1) + '\n', 0o440);
}
