// hooks: checked whole here, so a bad one fails create before anything runs. Only startContainer's go
// into the CT (pxoci's init runs them); the others run on the host (src/runtime/hooks.ts).
import type { OciSpec } from '../bundle.js';
import { checkHooks, hookState, stateAroundPid } from '../hooks.js';
import type { InitSpec } from '../initspec.js';

export function translateHooks(spec: OciSpec, ctx: { id: string; bundle: string }): InitSpec['startHooks'] {
  checkHooks(spec.hooks);
  if (!spec.hooks?.startContainer?.length) return undefined;
  const state = hookState({ id: ctx.id, bundle: ctx.bundle, annotations: spec.annotations as Record<string, string> | undefined }, 'created', 1);
  return { hooks: spec.hooks.startContainer, state: stateAroundPid(state) };
}
