// pxoci pause ID, pxoci resume ID
import type { Context } from '../runtime/context.js';
import { checkContainerId } from '../runtime/container-id.js';
import { pauseContainer, resumeContainer } from '../runtime/pause.js';

export async function pause(ctx: Context, rawId: string): Promise<void> {
  await pauseContainer(ctx, checkContainerId(rawId));
}

export async function resume(ctx: Context, rawId: string): Promise<void> {
  await resumeContainer(ctx, checkContainerId(rawId));
}
