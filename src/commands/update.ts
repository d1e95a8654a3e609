// pxoci update [--resources F|-] [runc's resource flags] ID
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { updateContainer, type UpdateOptions } from '../runtime/update.js';

export async function update(ctx: Context, rawId: string, o: UpdateOptions): Promise<void> {
  await updateContainer(ctx, checkContainerId(rawId), o);
}
