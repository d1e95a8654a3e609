import { fstatSync } from 'node:fs';
import { RuntimeError } from './errors.js';

/**
 * The first fd from 3 on that the caller did not pass, as the native front saw it before Node opened
 * fds of its own into the gaps (native/front.c); undefined when Node was started some other way.
 */
function callerFdsEnd(): number | undefined {
  const text = process.env.PXOCI_CALLER_FDS_END;
  return text !== undefined && /^\d+$/.test(text) && Number(text) >= 3 ? Number(text) : undefined;
}

/**
 * --preserve-fds N: the caller's fds 3 … 3+N-1 go to the container process as they are, so each must
 * be one the caller passed: said by number here, rather than as the EBADF of a spawn that names none
 * (or, worse, one of Node's own fds handed to the container).
 */
export function checkPreserveFds(n: number | undefined): number {
  const count = n ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > 250) throw new RuntimeError(`--preserve-fds: invalid value ${n}`);
  const end = callerFdsEnd();
  for (let fd = 3; fd < 3 + count; fd++) {
    let open = end === undefined || fd < end;
    try {
      fstatSync(fd);
    } catch {
      open = false;
    }
    if (!open) throw new RuntimeError(`--preserve-fds ${count}: fd ${fd} is not open (the caller must pass fds 3 to ${2 + count})`);
  }
  return count;
}
