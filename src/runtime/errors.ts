// Errors pxoci reports to its caller: the message is what runc would say, because engines match it.
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const notExist = () => new RuntimeError('container does not exist');
export const alreadyExists = () => new RuntimeError('container with given ID already exists');

/** --preserve-fds N: the caller's fds 3 … 3+N-1 go to the container process as they are. */
export function checkPreserveFds(n: number | undefined): number {
  const count = n ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > 250) throw new RuntimeError(`--preserve-fds: invalid value ${n}`);
  return count;
}
