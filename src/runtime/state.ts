// The state directory: <root>/<id>/ maps a container id to its VMID and keeps what `state` needs
// without asking PVE. Layout:
//   state.json   what create recorded (written atomically, updated by start)
//   state.view   the same, rendered for the native `state` front (see stateView)
//   ct/          bind-mounted read-only into the CT at /.pxoci: init, process, init.sock, start.fifo
//   exit         the container process's raw wait status, written by the keeper when it ends
//   owner-token  random, written first; the CT's description carries it too (docs/DESIGN.md, Ownership)
import { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, type BigIntStats } from 'node:fs';
import { atomicWrite } from '../lib/atomic-files.js';
import { join } from 'node:path';
import { RuntimeError, alreadyExists, notExist } from './errors.js';
import { checkContainerId } from './container-id.js';
import { VIEW_STATUS_ORDER, stateJsonText } from './status.js';
import { isContainerRecord, type ContainerRecord } from './record.js';
import { isOwnerToken } from './ownership.js';

// save() takes it and load() returns it, so callers of the store (test/front.test.ts) import it from here too.
export type { ContainerRecord };

function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    if (readSync(fd, buf, 0, bytes, null) !== bytes) throw new Error('/dev/urandom: short read');
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}

/**
 * state.view: what the native `state` front (native/front.c) prints, rendered here so that the JSON
 * has one author. Its header line names the state.json it was rendered from (inode, size, mtime): a
 * record replaced or damaged since sends the front to the Node side, which reads state.json itself
 * and says what is wrong. Then what the status needs (pid, its start time, whether start ran) and the
 * state JSON for each status, each ended by a NUL, in native/procfacts.h's order.
 */
function stateView(record: ContainerRecord, json: BigIntStats): string {
  const header = [
    'pxoci-view 1',
    json.ino,
    json.size,
    json.mtimeNs,
    record.pid ?? 0,
    record.pidStart || '-',
    record.started === true ? 1 : 0,
  ].join(' ');
  const renderings = VIEW_STATUS_ORDER.map((status) => stateJsonText(record, status) + '\0');
  return `${header}\n${renderings.join('')}`;
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

  /**
   * Claims the id: mkdir is atomic, so of two racing creates exactly one gets here. Returns the new
   * owner token, which exists before anything is made outside the state dir.
   */
  claim(id: string): string {
    // 0711: the root of a user-namespaced CT is an unprivileged host uid, and LXC mounts ct/ with its
    // credentials; it may pass through, not list (the files in here are 0600, ct/'s 0644).
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists();
      throw e;
    }
    // From the kernel's generator through fs: node:crypto (or web crypto) costs a create ~2 ms to load.
    const token = randomHex(16);
    atomicWrite(this.tokenFile(id), token + '\n', 0o600);
    mkdirSync(this.ctDir(id), { mode: 0o755 });
    return token;
  }

  tokenFile(id: string): string {
    return join(this.dir(id), 'owner-token');
  }

  /** The owner token of an id, if its state dir has a well-formed one. */
  token(id: string): string | undefined {
    try {
      const text = readFileSync(this.tokenFile(id), 'utf8').trim();
      return isOwnerToken(text) ? text : undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaced like PVE configs: tmp + fsync + rename, never half-written. Not pmxcfs files, so not its
   *  1 MiB limit: their size follows from the config.json they come from (MAX_CALLER_FILE), and the
   *  view holds the annotations four times over. */
  save(record: ContainerRecord): void {
    const path = join(this.dir(record.id), 'state.json');
    const maxSize = Number.POSITIVE_INFINITY;
    atomicWrite(path, JSON.stringify(record, null, 2) + '\n', 0o600, { maxSize });
    // Derived from state.json: one lost in a power cut, or stale, only sends the front to Node.
    atomicWrite(join(this.dir(record.id), 'state.view'), stateView(record, statSync(path, { bigint: true })), 0o600, { durable: false, maxSize });
  }

  load(id: string): ContainerRecord {
    const path = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !this.exists(id)) throw notExist();
      if (code === 'ENOENT') {
        throw new RuntimeError(`container ${id} has no state (${path}): its create did not finish; delete --force removes it`);
      }
      throw new RuntimeError(`cannot read state of container ${id} (${path}): ${code ?? (e as Error).message}; delete --force removes it`);
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      record = undefined;
    }
    if (!isContainerRecord(record, id)) {
      throw new RuntimeError(`state of container ${id} is corrupt (${path}): delete --force removes it`);
    }
    return record;
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
