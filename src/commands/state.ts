// pxoci state ID: runc's JSON, from the state dir and /proc alone (no pct call). The native front
// (native/front.c) answers most calls from state.view and hands every other case to this one.
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { containerStatus, stateJsonText } from '../runtime/status.js';

export function state(ctx: Context, rawId: string): void {
  const id = checkContainerId(rawId);
  const rec = ctx.store.load(id);
  process.stdout.write(stateJsonText(rec, containerStatus(ctx.store, rec)));
}
