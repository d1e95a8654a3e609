// pxoci state ID: runc's JSON, from the state dir and /proc alone (no pct call).
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/errors.js';
import { containerStatus, ociState } from '../runtime/container.js';

export function state(ctx: Context, rawId: string): void {
  const id = checkContainerId(rawId);
  const rec = ctx.store.load(id);
  process.stdout.write(JSON.stringify(ociState(rec, containerStatus(ctx.store, rec)), null, 2) + '\n');
}
