// Host facts the pure translator asks for (src/oci/translate.ts TranslateContext).
import { realpathSync, statSync } from 'node:fs';
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

/** The path with every symlink resolved, or undefined when it does not exist. */
export function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
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
