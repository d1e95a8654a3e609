// The mount point of pxoci's runtime directory in the container's root (/.pxoci). LXC cannot make it
// in a read-only rootfs, so create makes it; and since root.path may be any host directory (even / or
// /etc), what create made there, delete removes again.
import { lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RUNTIME_DIR_IN_CT } from '../oci/translate/runtime-dir.js';
import { parsePropertyString, type PveConfig } from '../pve/config.js';
import { ctVmids } from '../pve/node-facts.js';
import type { NodePaths } from '../pve/paths.js';
import { readConf } from './ct-configs.js';
import { RuntimeError } from './errors.js';

/** In the container's state dir: the mount point this container's create made, if it made one. */
const MADE_FILE = 'made-mount-point';

/** Makes <rootfs>/.pxoci unless it is there, and records that it did. */
export function makeRuntimeMountPoint(stateDir: string, rootfs: string): void {
  const target = join(rootfs, RUNTIME_DIR_IN_CT);
  // Recorded first: a create killed right after the mkdir still tells delete --force what it made.
  writeFileSync(join(stateDir, MADE_FILE), target, { mode: 0o600, flag: 'wx' });
  try {
    mkdirSync(target, { mode: 0o755 });
  } catch (e) {
    rmSync(join(stateDir, MADE_FILE), { force: true });
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RuntimeError(`cannot make pxoci's mount point ${target}: ${(e as Error).message}`);
    // Never a symlink: LXC would mount the runtime dir wherever it points.
    if (!lstatSync(target).isDirectory()) throw new RuntimeError(`root.path: ${target} is not a directory, and ${RUNTIME_DIR_IN_CT} is pxoci's reserved path`);
  }
}

function sameDir(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return resolve(a) === resolve(b) || real(a) === real(b);
}

function rootfsOf(conf: PveConfig | undefined): string | undefined {
  try {
    return conf?.options.rootfs ? parsePropertyString('rootfs', conf.options.rootfs).volume : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the mount point this container's create made, once its CT is gone: only when it is empty,
 * and not while another CT of this node has the same root (there it is a mount point in that CT's
 * namespace, and removing it would take that CT's runtime directory away).
 */
export function removeRuntimeMountPoint(stateDir: string, paths: NodePaths): void {
  let target: string;
  try {
    target = readFileSync(join(stateDir, MADE_FILE), 'utf8');
  } catch {
    return;
  }
  const rootfs = dirname(target);
  if (ctVmids(paths).some((vmid) => {
    const other = rootfsOf(readConf(paths, vmid));
    return other !== undefined && sameDir(other, rootfs);
  })) return;
  try {
    rmdirSync(target);
  } catch {
    // not empty (someone put something there), or gone already
  }
}
