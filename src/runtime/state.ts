// The state directory: <root>/<id>/ maps a container id to its VMID and keeps what `state` needs
// without asking PVE. Layout:
//   state.json   what create recorded (written atomically, updated by start)
//   ct/          bind-mounted read-only into the CT at /.pxoci: init, process, init.sock, start.fifo
//   exit         the container process's raw wait status, written by the keeper when it ends
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { atomicWrite } from '../pve/files.js';
import { join } from 'node:path';
import { RuntimeError, alreadyExists, checkContainerId, notExist } from './errors.js';

export interface ContainerRecord {
  id: string;
  vmid?: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The keeper: the pid-file process. */
  keeperPid?: number;
  keeperStart?: string;
  /** The CT's PID 1 (our init) and the container process, as host pids. */
  initPid?: number;
  pid?: number;
  pidStart?: string;
  started?: boolean;
}

/** State files are replaced like PVE configs: tmp + fsync + rename, never half-written. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  atomicWrite(path, data, mode);
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, checkContainerId(id));
  }
  ctDir(id: string): string {
    return join(this.dir(id), 'ct');
  }
  exitFile(id: string): string {
    return join(this.dir(id), 'exit');
  }

  /** Claims the id: mkdir is atomic, so of two racing creates exactly one gets here. */
  claim(id: string): void {
    // 0711: the root of a user-namespaced CT is an unprivileged host uid, and LXC mounts ct/ with its
    // credentials; it may pass through, not list (the files in here are 0640).
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists();
      throw e;
    }
    mkdirSync(this.ctDir(id), { mode: 0o755 });
  }

  save(record: ContainerRecord): void {
    writeFileAtomic(join(this.dir(record.id), 'state.json'), JSON.stringify(record, null, 2) + '\n');
  }

  load(id: string): ContainerRecord {
    const path = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    try {
      const record = JSON.parse(text) as ContainerRecord;
      if (record.id !== id || typeof record.bundle !== 'string') throw new Error('wrong shape');
      return record;
    } catch {
      throw new RuntimeError(`state of container ${id} is corrupt (${path}): delete --force removes it`);
    }
  }

  /** The id's directory exists (possibly without state.json, after a create that died early). */
  exists(id: string): boolean {
    try {
      readdirSync(this.dir(id));
      return true;
    } catch {
      return false;
    }
  }

  readExit(id: string): number | undefined {
    try {
      const status = Number.parseInt(readFileSync(this.exitFile(id), 'utf8'), 10);
      return Number.isFinite(status) ? status : undefined;
    } catch {
      return undefined;
    }
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
