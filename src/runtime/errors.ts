// Errors pxoci reports to its caller. Where runc has a fixed text for a case, pxoci says exactly that,
// because engines match these messages: each is written once, here, and changing one breaks callers.
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const fail = (message: string) => () => new RuntimeError(message);

// libcontainer's error values.
export const notExist = fail('container does not exist');
export const alreadyExists = fail('container with given ID already exists');
export const notRunning = fail('container not running');
export const notPaused = fail('container not paused');
/** kill found no process to signal: the text of Go's ESRCH. */
export const noSuchProcess = fail('no such process');

// runc's container id rule (runtime/container-id.ts).
export const emptyContainerId = fail('container id cannot be empty');
export const invalidContainerId = fail('invalid container ID format');
/** runc has no limit of its own (mkdir fails); the start of the text stays runc's. */
export const containerIdTooLong = (max: number) =>
  new RuntimeError(`invalid container ID format: an id has at most ${max} characters (it names a directory, and a file name has at most ${max} bytes)`);

// What runc's commands themselves say (start, delete, exec, kill, ps, list, spec; create's bundle checks).
export const cannotStartStopped = fail('cannot start a container that has stopped');
export const cannotStartRunning = fail('cannot start an already running container');
export const cannotDeleteNotStopped = (id: string, status: string) =>
  new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
export const cannotExecStopped = fail('cannot exec in a stopped container');
export const cannotExecPaused = fail('cannot exec in a paused container (use --ignore-paused to override)');
export const ttyNeedsConsoleSocket = fail('cannot allocate tty if runc will detach without setting console socket');
export const consoleSocketNeedsTty = fail('cannot use console socket if runc will not detach or allocate tty');
export const rootfsMissing = (rootfs: string) => new RuntimeError(`rootfs (${rootfs}) does not exist`);
export const unknownSignal = (text: string) => new RuntimeError(`unknown signal "${text}"`);
export const invalidFormat = (format: string) => new RuntimeError(`invalid format option: ${format}`);
export const noPidColumn = fail("couldn't find PID field in ps output");
export const specExists = fail('File config.json exists. Remove it first.');

/** The caller may not read or change what it asked about (a non-root caller on root's state dir):
 *  never to be taken for "does not exist" or for a state --force may clear. */
export class PermissionDenied extends RuntimeError {}

/** Go's words for an errno, as runc's messages carry them. */
function goErrorText(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EPERM':
      return 'operation not permitted';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return (e as Error).message;
  }
}

/** A failed file operation in runc's words (`open /run/runc/x/state.json: permission denied`). */
export function fileOpFailed(op: string, path: string, e: unknown): RuntimeError {
  const code = (e as NodeJS.ErrnoException).code;
  const message = `${op} ${path}: ${goErrorText(e)}`;
  return code === 'EACCES' || code === 'EPERM' ? new PermissionDenied(message) : new RuntimeError(message);
}

/** A file the caller named could not be opened: Go's os.Open words, as runc passes them on. */
export function openFailed(path: string, e: unknown): RuntimeError {
  return fileOpFailed('open', path, e);
}
