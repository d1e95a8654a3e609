// The state directory: <root>/<id>/ maps a container id to its VMID and keeps what `state` needs
// without asking PVE. Layout:
//   @owner-key   (in <root>) the secret that makes pxoci's CT markers (docs/DESIGN.md, Ownership);
//                its name cannot be a container id
//   state.json   what create recorded (written atomically, updated by start)
//   state.view   the same, rendered for the native `state` front (see stateView)
//   ct/          bind-mounted read-only into the CT at /.pxoci: init, process, start.fifo; run/ (read-write
//                at /.pxoci/run) holds the init's socket. 0700, the CT's root's.
//   exit         the container process's raw wait status, written by the keeper when it ends
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, type BigIntStats } from 'node:fs';
import { atomicWrite, publishExclusive } from '../lib/atomic-files.js';
import { join } from 'node:path';
import { RuntimeError, alreadyExists, fileOpFailed, notExist } from './errors.js';
import { checkContainerId } from './container-id.js';
import { VIEW_STATUS_ORDER, stateJsonText } from './status.js';
import { isContainerRecord, type ContainerRecord } from './record.js';
import { OWNER_KEY_BYTES, type OwnerKey } from './ownership.js';

// save() takes it and load() returns it, so callers of the store (test/front.test.ts) import it from here too.
export type { ContainerRecord };

function randomBytes(count: number): Buffer {
  const buf = Buffer.alloc(count);
  const fd = openSync('/dev/urandom', 'r');
  try {
    if (readSync(fd, buf, 0, count, null) !== count) throw new Error('/dev/urandom: short read');
  } finally {
    closeSync(fd);
  }
  return buf;
}

const isErrno = (e: unknown, ...codes: string[]) => codes.includes((e as NodeJS.ErrnoException).code ?? '');

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
   * Claims the id: mkdir is atomic, so of two racing creates exactly one gets here. Returns the
   * owner key, which exists before anything is made outside the state dir.
   */
  claim(id: string): OwnerKey {
    // 0711: the root of a user-namespaced CT is an unprivileged host uid, and LXC mounts ct/ with its
    // credentials; it may pass through, not list (the files in here are 0600, ct/ is 0700).
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
    } catch (e) {
      throw fileOpFailed('mkdir', this.root, e);
    }
    const key = this.ownerKey() ?? this.makeOwnerKey();
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if (isErrno(e, 'EEXIST')) throw alreadyExists();
      throw fileOpFailed('mkdir', this.dir(id), e);
    }
    mkdirSync(this.ctDir(id), { mode: 0o700 });
    return key;
  }

  /** '@' is no container id's: the key never shares a name with a state dir. */
  get ownerKeyFile(): string {
    return join(this.root, '@owner-key');
  }

  /** The first create of a root makes its key; of racing creates one key wins, whole, and all use it. */
  private makeOwnerKey(): OwnerKey {
    // From the kernel's generator through fs: node:crypto costs ~2 ms to load, and create needs it
    // only for the marker.
    publishExclusive(this.ownerKeyFile, randomBytes(OWNER_KEY_BYTES).toString('hex') + '\n', 0o600);
    const key = this.ownerKey();
    if (!key) throw new RuntimeError(`internal error: ${this.ownerKeyFile} vanished`);
    return key;
  }

  /**
   * The root's owner key; undefined when there is none (no create ever ran here, so no CT can be
   * ours). Only a key file as pxoci made it counts: a plain file of our own uid, readable by no one
   * else, holding the hex digits; a link, or a file someone else could have written, is refused.
   */
  ownerKey(): OwnerKey | undefined {
    const path = this.ownerKeyFile;
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw fileOpFailed('open', path, e);
    }
    try {
      const st = fstatSync(fd);
      const text = readFileSync(fd, 'utf8').trim();
      const uid = process.geteuid?.() ?? 0;
      if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0 || !new RegExp(`^[0-9a-f]{${OWNER_KEY_BYTES * 2}}$`).test(text)) {
        throw new RuntimeError(`${path} is not an owner key pxoci made (a 0600 file of uid ${uid} holding ${OWNER_KEY_BYTES * 2} hex digits): refusing to use it`);
      }
      return Buffer.from(text, 'hex');
    } finally {
      closeSync(fd);
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
      if (code === 'EACCES' || code === 'EPERM') {
        // As runc: a state dir the caller may not even look at is named as such (lstat throws).
        this.exists(id);
        throw fileOpFailed('open', path, e);
      }
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

  /**
   * The id's directory exists (possibly without state.json, after a create that died early). A
   * caller who may not look (a non-root user on root's state dir) gets runc's error, never "no".
   */
  exists(id: string): boolean {
    const dir = this.dir(id);
    try {
      return lstatSync(dir).isDirectory();
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) return false;
      throw fileOpFailed('lstat', dir, e);
    }
  }

  /** The ids of the root's containers; none while the root does not exist. */
  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw fileOpFailed('open', this.root, e);
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
