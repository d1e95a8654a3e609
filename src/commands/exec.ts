// pxoci exec [options] ID [COMMAND...]: the caller sees the process's own end, as with runc.
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { execProcess, type ExecOptions } from '../runtime/exec.js';

export async function exec(ctx: Context, rawId: string, o: ExecOptions): Promise<void> {
  const exit = await execProcess(ctx, checkContainerId(rawId), o);
  if (!exit) return;
  // Death by a signal: the same signal ends pxoci, so the engine's wait status is the process's own.
  if (exit.signal) process.kill(process.pid, exit.signal);
  process.exitCode = exit.code ?? 255;
}
