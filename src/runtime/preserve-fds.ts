import { RuntimeError } from './errors.js';

/** --preserve-fds N: the caller's fds 3 … 3+N-1 go to the container process as they are. */
export function checkPreserveFds(n: number | undefined): number {
  const count = n ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > 250) throw new RuntimeError(`--preserve-fds: invalid value ${n}`);
  return count;
}
