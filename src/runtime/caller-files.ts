// JSON files the caller names (the bundle's config.json, exec --process, update --resources): one
// reading, so that a missing file is reported in Go's os.Open words everywhere, as runc reports it, and
// so that no file can make pxoci wait forever or read without end: only a regular file (or `-`, the
// caller's stdin) is read, and at most MAX_CALLER_FILE bytes of it.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { RuntimeError, openFailed } from './errors.js';

/** Far above any real config (podman's with a seccomp profile is ~60 KB; Kubernetes caps a pod's
 *  annotations at 256 KiB), far below what would hurt: every state file is derived from it. */
export const MAX_CALLER_FILE = 16 * 1024 * 1024;

function notRegular(label: string): RuntimeError {
  return new RuntimeError(`${label}: not a regular file (a FIFO, device or directory is not read)`);
}

function readBounded(fd: number, label: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1 << 20, MAX_CALLER_FILE + 1 - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > MAX_CALLER_FILE) throw new RuntimeError(`${label}: larger than ${MAX_CALLER_FILE / (1024 * 1024)} MiB, the most pxoci reads`);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function readText(path: string, label: string): string {
  if (path === '-') return readBounded(0, label);
  // stat first: opening a FIFO waits for a writer, and opening a device can act on it.
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    throw openFailed(path, e);
  }
  if (!isFile) throw notRegular(label);
  let fd: number;
  try {
    // Non-blocking, in case the path was replaced by a FIFO since the stat; it changes nothing for a file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw openFailed(path, e);
  }
  try {
    if (!fstatSync(fd).isFile()) throw notRegular(label);
    return readBounded(fd, label);
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses `path` (`-` is stdin); `label` names the file in an error. */
export function readJsonFile(path: string, label = path): unknown {
  const text = readText(path, label);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${label}: invalid JSON: ${(e as Error).message}`);
  }
}
