// File operations with pmxcfs's semantics: a config replaces the old one by rename() (readers see the
// old or the new file, never half of one), and creating a CT's config with O_EXCL is the VMID
// reservation (pmxcfs answers EEXIST cluster-wide; on one node the local file system does the same).
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** pmxcfs refuses files over 1 MiB. */
export const PMXCFS_MAX_FILE = 1024 * 1024;

function checkSize(path: string, data: string | Buffer, maxSize = PMXCFS_MAX_FILE): void {
  if (Buffer.byteLength(data) > maxSize) throw new Error(`unable to write '${path}' - File too large`);
}

/**
 * tmp file + rename(), like PVE's file_set_contents. `durable: false` skips the fsync, for a file that
 * may be lost in a power cut as long as no reader ever sees half of it. `maxSize` is pmxcfs' limit
 * unless the file is not one of /etc/pve's.
 */
export function atomicWrite(path: string, data: string | Buffer, mode = 0o640, { durable = true, maxSize = PMXCFS_MAX_FILE } = {}): void {
  checkSize(path, data, maxSize);
  const tmp = join(dirname(path), `.${basename(path)}.tmp.${process.pid}`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Creates `path` only if it does not exist. Returns false when it already does (EEXIST): for a
 * `<vmid>.conf` that means the VMID is taken.
 */
export function createExclusive(path: string, data: string | Buffer, mode = 0o640): boolean {
  checkSize(path, data);
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
  } finally {
    closeSync(fd);
  }
  return true;
}
