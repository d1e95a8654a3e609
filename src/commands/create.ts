// pxoci create [--bundle B] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { createContainer, type CreateOptions } from '../runtime/create.js';

export async function create(ctx: Context, rawId: string, o: CreateOptions): Promise<void> {
  await createContainer(ctx, checkContainerId(rawId), o);
}
