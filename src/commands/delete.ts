// pxoci delete [--force] ID
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { destroyContainer } from '../runtime/destroy.js';

export async function deleteContainer(ctx: Context, rawId: string, o: { force?: boolean }): Promise<void> {
  await destroyContainer(ctx, checkContainerId(rawId), { force: o.force === true });
}
