// Every file pxoci writes goes through here: configs in /etc/pve (with pmxcfs's semantics: a config
// replaces the old one by rename(), and creating a CT's config with O_EXCL is the VMID reservation),
// its state files, and the files at paths its caller names (--pid-file, --log), which may sit in a
// directory other users can write. So a file is only ever created new (O_EXCL) and never through a
// symbolic link, and the directory is opened once and every later step names files in that open
// directory (/proc/self/fd/N/name, Node's openat): a component swapped for a link meanwhile changes
// nothing.
import { closeSync, constants, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const { O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants;

/** pmxcfs refuses files over 1 MiB. */
export const PMXCFS_MAX_FILE = 1024 * 1024;

function checkSize(path: string, data: string | Buffer, maxSize = PMXCFS_MAX_FILE): void {
  if (Buffer.byteLength(data) > maxSize) throw new Error(`unable to write '${path}' - File too large`);
}

/** Why a step failed, in the words of the path the caller knows (not /proc/self/fd/N). */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EEXIST':
      return 'it already exists';
    case 'ELOOP':
      return 'it is a symbolic link';
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err.code ?? err.message;
  }
}

/** An error naming `path`, keeping the errno code for callers that decide by it. */
function fileError(what: string, path: string, e: unknown): Error {
  const err: NodeJS.ErrnoException = new Error(`cannot ${what} ${path}: ${reason(e)}`);
  err.code = (e as NodeJS.ErrnoException).code;
  return err;
}

/** `name` inside the directory open as `dirFd`, as the kernel resolves it: no path component again. */
const inDir = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

function openDir(dir: string): number {
  try {
    return openSync(dir, O_RDONLY | O_DIRECTORY);
  } catch (e) {
    throw fileError('open directory', dir, e);
  }
}

/**
 * Opens directory `dir`, first making its missing components (mode `mode`): the deepest existing one
 * is opened as named, each new one by name in the one before it and never through a link, so a
 * component someone replaces by a link while we go is refused, not followed.
 */
function openDirMaking(dir: string, mode: number): number {
  const missing: string[] = [];
  let at = resolve(dir);
  let fd: number;
  for (;;) {
    try {
      fd = openSync(at, O_RDONLY | O_DIRECTORY);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || at === '/') throw fileError('open directory', at, e);
      missing.unshift(basename(at));
      at = dirname(at);
    }
  }
  for (const name of missing) {
    at = `${at === '/' ? '' : at}/${name}`;
    try {
      try {
        mkdirSync(inDir(fd, name), mode);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const next = openSync(inDir(fd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      closeSync(fd);
      fd = next;
    } catch (e) {
      closeSync(fd);
      throw fileError('make directory', at, e);
    }
  }
  return fd;
}

/** Creates `name` in the open directory: exclusively, so never through anything already there. */
function createIn(dirFd: number, name: string, mode: number): number {
  return openSync(inDir(dirFd, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
}

function writeAll(fd: number, data: string | Buffer): void {
  writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
}

/**
 * Writes `data` whole into a new file `tmpName` of the directory `dirFd` (the folder of `path`),
 * created exclusively and never through a link; one that could not be written whole is removed.
 */
function writeTemporary(dirFd: number, path: string, tmpName: string, data: string | Buffer, mode: number, durable: boolean): void {
  const tmp = `${dirname(path)}/${tmpName}`;
  let fd: number;
  try {
    fd = createIn(dirFd, tmpName, mode);
  } catch (e) {
    throw fileError(`write ${path}: cannot create its temporary file`, tmp, e);
  }
  try {
    writeAll(fd, data);
    if (durable) fsyncSync(fd);
  } catch (e) {
    rmSync(inDir(dirFd, tmpName), { force: true });
    throw fileError('write', tmp, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * tmp file + rename(), like PVE's file_set_contents. `durable: false` skips the fsync, for a file that
 * may be lost in a power cut as long as no reader ever sees half of it. The tmp file
 * `.<name>.tmp.<pid>` is created exclusively: whatever someone put at that name (a link to a file of
 * root's, say) makes the write fail instead of being written through. rename() replaces the final
 * name itself, a link there included, never what it points to. `maxSize` is pmxcfs' limit unless the
 * file is not one of /etc/pve's.
 */
export function atomicWrite(path: string, data: string | Buffer, mode = 0o640, { durable = true, maxSize = PMXCFS_MAX_FILE } = {}): void {
  checkSize(path, data, maxSize);
  const name = basename(path);
  const tmpName = `.${name}.tmp.${process.pid}`;
  const dirFd = openDir(dirname(path));
  try {
    writeTemporary(dirFd, path, tmpName, data, mode, durable);
    try {
      renameSync(inDir(dirFd, tmpName), inDir(dirFd, name));
    } catch (e) {
      rmSync(inDir(dirFd, tmpName), { force: true });
      throw fileError('write', path, e);
    }
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Creates `path` only if it does not exist. Returns false when it already does (EEXIST): for a
 * `<vmid>.conf` that means the VMID is taken. A reader may see it empty for a moment (see
 * publishExclusive).
 */
export function createExclusive(path: string, data: string | Buffer, mode = 0o640): boolean {
  checkSize(path, data);
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Creates `path` whole or not at all: written under a temporary name, then link()ed to its name,
 * which fails if the name exists. Returns false when it did (another writer won). Not for pmxcfs,
 * which has no hard links.
 */
export function publishExclusive(path: string, data: string | Buffer, mode = 0o600): boolean {
  const name = basename(path);
  const tmpName = `.${name}.tmp.${process.pid}`;
  const dirFd = openDir(dirname(path));
  try {
    writeTemporary(dirFd, path, tmpName, data, mode, true);
    try {
      linkSync(inDir(dirFd, tmpName), inDir(dirFd, name));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fileError('write', path, e);
    } finally {
      unlinkSync(inDir(dirFd, tmpName));
    }
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Appends `text` to `path`, creating it (mode `mode`) and its missing directories (`dirMode`) as
 * needed: never through a link, and only to a plain file with no other name (a hard link someone
 * made to a file of root's is refused, as is a fifo, which would block).
 */
export function appendToFile(path: string, text: string, mode: number, dirMode: number): void {
  const dirFd = openDirMaking(dirname(path), dirMode);
  let fd: number;
  try {
    fd = openSync(inDir(dirFd, basename(path)), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (e) {
    throw fileError('write', path, e);
  } finally {
    closeSync(dirFd);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`cannot write ${path}: not a regular file`);
    if (st.nlink !== 1) throw new Error(`cannot write ${path}: it has ${st.nlink} names (hard links)`);
    writeAll(fd, text);
  } finally {
    closeSync(fd);
  }
}
