// A failure pct reports the way PVE's CLI does: its message on stderr, exit code 255.
export class PveError extends Error {
  constructor(
    message: string,
    readonly exitCode = 255,
  ) {
    super(message);
  }
}
