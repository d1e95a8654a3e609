// pxoci start ID
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { startContainer } from '../runtime/start.js';

export async function start(ctx: Context, rawId: string): Promise<void> {
  await startContainer(ctx, checkContainerId(rawId));
}
