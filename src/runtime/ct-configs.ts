// pxoci's writes into /etc/pve: VMID reservation, config writes under PVE's lock, ownership checks.
import { existsSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parsePctConfig, writePctConfig, type PveConfig } from '../pve/config.js';
import { withFileLock } from '../lib/flock.js';
import type { NodePaths } from '../pve/paths.js';
import { VMID_MAX, VMID_MIN, ctVmids, nextIdRange, usedVmids } from '../pve/node-facts.js';
import { atomicWrite, createExclusive } from '../lib/atomic-files.js';
import { RuntimeError } from './errors.js';
import { ownedBy, ownerLine, type OwnerKey } from './ownership.js';

/** PVE waits 10 s for a config lock (5 s during create). */
const LOCK_TIMEOUT_SECONDS = 10;

/**
 * Reserves a VMID the way pmxcfs makes it safe: exclusive creation of the config file, which fails
 * with EEXIST when the id exists anywhere in the cluster. /cluster/nextid is only a hint (two callers
 * get the same answer), so on EEXIST we move on to the next free id. The placeholder names its VMID
 * (the ownership marker does), so it is made for each one tried.
 */
export function reserveVmid(paths: NodePaths, placeholder: (vmid: number) => PveConfig): number {
  const used = usedVmids(paths);
  // The range the admin lets PVE hand out ids from (datacenter.cfg next-id), as pvesh nextid keeps to.
  const { lower, upper } = nextIdRange(paths);
  for (let vmid = Math.max(lower, VMID_MIN); vmid < Math.min(upper, VMID_MAX + 1); vmid++) {
    if (used.has(vmid)) continue;
    let created: boolean;
    try {
      created = createExclusive(paths.confPath(vmid), writePctConfig(placeholder(vmid)), 0o640);
    } catch (e) {
      throw new RuntimeError(`cannot create ${paths.confPath(vmid)}: ${(e as Error).message}`);
    }
    if (!created) continue;
    return vmid;
  }
  throw new RuntimeError(`no free VMID left in [${lower}, ${upper}) (datacenter.cfg next-id)`);
}

function readConfText(paths: NodePaths, vmid: number): string | undefined {
  try {
    return readFileSync(paths.confPath(vmid), 'utf8');
  } catch {
    return undefined;
  }
}

export function readConf(paths: NodePaths, vmid: number): PveConfig | undefined {
  const text = readConfText(paths, vmid);
  return text === undefined ? undefined : parsePctConfig(text, vmid).config;
}

/** Refuses to act on a VMID whose config does not prove it is this container's CT. */
export function checkOwned(paths: NodePaths, vmid: number, id: string, key: OwnerKey | undefined): PveConfig {
  const conf = readConf(paths, vmid);
  if (!ownedBy(conf, id, vmid, key)) throw new RuntimeError(`CT ${vmid} is not a pxoci container of ${id}: refusing to touch it`);
  return conf!;
}

/**
 * CTs of this node whose marker proves them container `id`'s: how delete finds a CT whose VMID a
 * killed create never recorded, a corrupt record cannot name, or whose state dir is gone. The MAC
 * binds id and VMID under this root's key: a CT of another state root, or a foreign CT carrying a
 * copy of our lines, is never among them.
 */
export function findOwnedCts(paths: NodePaths, id: string, key: OwnerKey | undefined): number[] {
  if (!key) return [];
  // Only configs that mention the id are parsed (the id has no byte PVE would escape).
  const named = ownerLine(id);
  return ctVmids(paths).filter((vmid) => {
    const text = readConfText(paths, vmid);
    return text !== undefined && text.includes(named) && ownedBy(parsePctConfig(text, vmid).config, id, vmid, key);
  });
}

/** Replaces our own config (the placeholder reserveVmid made) under PVE's lock; `locked` runs first. */
export function writeConfLocked(
  paths: NodePaths,
  vmid: number,
  conf: PveConfig,
  owner: { id: string; key: OwnerKey },
  locked: () => void = () => {},
): Promise<void> {
  const text = writePctConfig(conf);
  return withFileLock(paths.lockPath(vmid), LOCK_TIMEOUT_SECONDS, async () => {
    locked();
    checkOwned(paths, vmid, owner.id, owner.key);
    atomicWrite(paths.confPath(vmid), text, 0o640);
  });
}

/**
 * Changes our own config under PVE's lock, read and written inside it, so that no concurrent change
 * (a pct set just before) is lost. A `lock:` on the CT (backup, migrate, …) refuses it, as pct set.
 */
export function editConfLocked(paths: NodePaths, vmid: number, owner: { id: string; key: OwnerKey | undefined }, edit: (conf: PveConfig) => void): Promise<void> {
  return withFileLock(paths.lockPath(vmid), LOCK_TIMEOUT_SECONDS, async () => {
    const conf = checkOwned(paths, vmid, owner.id, owner.key);
    if (conf.options.lock) throw new RuntimeError(`CT is locked (${conf.options.lock})`);
    edit(conf);
    atomicWrite(paths.confPath(vmid), writePctConfig(conf), 0o640);
  });
}

/** Removes a config that never started (pct destroy handles the ones that did). */
export function removeConfLocked(paths: NodePaths, vmid: number, id: string, key: OwnerKey | undefined): Promise<void> {
  return withFileLock(paths.lockPath(vmid), LOCK_TIMEOUT_SECONDS, async () => {
    if (!ownedBy(readConf(paths, vmid), id, vmid, key)) return;
    try {
      unlinkSync(paths.confPath(vmid));
    } catch {
      // already gone
    }
  });
}

/**
 * A config write killed between its tmp file and the rename leaves `.<vmid>.conf.tmp.<pid>` beside the
 * config (atomicWrite). Once our CT of that VMID is gone, such files whose writer no longer runs are
 * what is left of ours; a live writer's file is left alone.
 */
export function removeDeadWritersTemps(paths: NodePaths, vmid: number): void {
  const pattern = new RegExp(`^\\.${vmid}\\.conf\\.tmp\\.(\\d+)$`);
  let names: string[] = [];
  try {
    names = readdirSync(paths.lxcConfDir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    rmSync(join(paths.lxcConfDir, name), { force: true });
  }
}
