// pxoci kill [--all] ID [SIGNAL]
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { killContainer, parseSignal } from '../runtime/signal.js';

export async function kill(ctx: Context, rawId: string, sig: string | undefined, o: { all?: boolean }) {
  const id = checkContainerId(rawId);
  const signal = parseSignal(sig);
  await killContainer(ctx, id, signal, { all: o.all === true });
}
