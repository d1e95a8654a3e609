// Host facts the pure translator asks for (src/core/translate.ts TranslateContext).
import { statSync } from 'node:fs';

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
