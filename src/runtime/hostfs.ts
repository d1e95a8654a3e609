// Host facts the pure translator asks for (src/core/translate.ts TranslateContext).
import { statSync } from 'node:fs';
import { join } from 'node:path';

export function pathKind(path: string): 'dir' | 'file' | 'char' | 'block' | 'missing' {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'dir';
    if (st.isCharacterDevice()) return 'char';
    if (st.isBlockDevice()) return 'block';
    return 'file';
  } catch {
    return 'missing';
  }
}

export function deviceNumbers(path: string): { major: number; minor: number } | undefined {
  try {
    const st = statSync(path);
    if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
    // Linux dev_t: major in bits 8-19 (+ high bits), minor in 0-7 and 20-31.
    const rdev = st.rdev;
    return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
  } catch {
    return undefined;
  }
}

/** The first directory on the way to `path` that a process of host uid:gid (not root) cannot pass. */
export function firstClosedDir(path: string, who: { uid: number; gid: number }): string | undefined {
  let dir = '/';
  for (const part of path.split('/').filter(Boolean)) {
    try {
      const st = statSync(dir);
      const bit = st.uid === who.uid ? 0o100 : st.gid === who.gid ? 0o010 : 0o001;
      if (!st.isDirectory() || (st.mode & bit) === 0) return dir;
    } catch {
      return dir;
    }
    dir = join(dir, part);
  }
  return undefined;
}
