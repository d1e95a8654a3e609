// A container's status: its state record plus what the host says about its processes now, and the
// OCI state JSON that reports it.
import type { ContainerRecord } from './record.js';
import { nativeProcFacts } from './proc.js';
import { SPEC_VERSION } from '../version.js';

export type Status = 'created' | 'running' | 'paused' | 'stopped';

/** native/procfacts.h's enum container_status, in order. */
export const VIEW_STATUS_ORDER: readonly Status[] = ['created', 'running', 'paused', 'stopped'];

/**
 * Stopped once the keeper has written the container process's exit status or that process is gone;
 * created until start; paused while the CT's freezer says so (lxc-freeze freezes the whole CT). Decided
 * in native/procfacts.c, which the native `state` front runs too. `store` is the StateStore; only its
 * exit file is needed, and naming the class here would make the store and its status import each other.
 */
export function containerStatus(store: { exitFile(id: string): string }, rec: ContainerRecord): Status {
  return nativeProcFacts().status(store.exitFile(rec.id), rec.pid ?? 0, rec.pidStart ?? '', rec.started === true);
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
    ociVersion: SPEC_VERSION,
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

/** `state`'s output: the Node side prints it, and renders it ahead for the native front (state.view). */
export function stateJsonText(rec: ContainerRecord, status: Status): string {
  return JSON.stringify(ociState(rec, status), null, 2) + '\n';
}
