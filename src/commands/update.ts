// pxoci update --resources F|- ID
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { updateContainer } from '../runtime/update.js';

export async function update(ctx: Context, rawId: string, o: { resources?: string }): Promise<void> {
  await updateContainer(ctx, checkContainerId(rawId), o);
}
