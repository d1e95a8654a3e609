// A container as pxoci sees it: its state record plus what the host says about its processes now.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord, StateStore } from './state.js';
import { cgroupDirs, isSameProcessAlive } from './proc.js';

export type Status = 'created' | 'running' | 'paused' | 'stopped';

export const OCI_VERSION = '1.2.0';

/** Paused means the CT's freezer says so: lxc-freeze freezes the whole CT. */
export function isFrozen(pid: number): boolean {
  const { unified, controllers } = cgroupDirs(pid);
  const freezer = controllers.get('freezer');
  if (freezer !== undefined) {
    try {
      return readFileSync(join('/sys/fs/cgroup/freezer', freezer, 'freezer.state'), 'utf8').trim() !== 'THAWED';
    } catch {
      // fall through to cgroup v2
    }
  }
  if (unified !== undefined) {
    for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      try {
        const events = readFileSync(join(mount, unified, 'cgroup.events'), 'utf8');
        return /^frozen 1$/m.test(events);
      } catch {
        // not this mount
      }
    }
  }
  return false;
}

export function containerStatus(store: StateStore, rec: ContainerRecord): Status {
  if (store.readExit(rec.id) !== undefined) return 'stopped';
  if (!rec.pid || !isSameProcessAlive(rec.pid, rec.pidStart)) return 'stopped';
  if (!rec.started) return 'created';
  return isFrozen(rec.pid) ? 'paused' : 'running';
}

export interface OciStateJson {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function ociState(rec: ContainerRecord, status: Status): OciStateJson {
  const state: OciStateJson = {
    ociVersion: OCI_VERSION,
    id: rec.id,
    pid: status === 'stopped' ? 0 : (rec.pid ?? 0),
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length > 0) state.annotations = rec.annotations;
  return state;
}
