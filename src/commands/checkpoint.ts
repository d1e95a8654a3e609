// pxoci checkpoint / restore: runc's flags are accepted (engines pass them before asking anything), and
// the answer is why a PVE CT cannot be checkpointed. Nothing is touched: the container keeps running.
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { RuntimeError } from '../runtime/errors.js';

/** Why, in the words `features` and both commands use. */
export const NO_CHECKPOINT_REASON =
  "PVE's only CRIU path for a CT (`pct suspend`/`pct resume`) is experimental, and it neither writes nor reads the images at --image-path that an engine expects";

export function checkpoint(ctx: Context, rawId: string): void {
  const id = checkContainerId(rawId);
  ctx.store.load(id); // an unknown id gets runc's own answer first
  throw new RuntimeError(`checkpoint: pxoci cannot checkpoint a container, which runs as a Proxmox VE CT: ${NO_CHECKPOINT_REASON}; the container keeps running`);
}

export function restore(rawId: string): void {
  checkContainerId(rawId);
  throw new RuntimeError(`restore: pxoci cannot restore a container from a checkpoint, as it runs containers as Proxmox VE CTs: ${NO_CHECKPOINT_REASON}`);
}
