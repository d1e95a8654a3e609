// OCI hooks as data: what config.json may ask for, and the state JSON every hook reads on stdin.
// Running them is src/runtime/hooks.ts's job; startContainer hooks are run by pxoci's init.
import type { OciSpec } from './bundle.js';
import { ConfigError } from './errors.js';
import { SPEC_VERSION } from '../version.js';

export type Hooks = NonNullable<OciSpec['hooks']>;
export type HookKind = keyof Hooks;
export type Hook = NonNullable<Hooks[HookKind]>[number];

export interface HookState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped';
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The state a hook receives, in runc's key order; a stopped container has no pid. */
export function hookState(
  c: { id: string; bundle: string; annotations?: Record<string, string> },
  status: HookState['status'],
  pid?: number,
): HookState {
  return {
    ociVersion: SPEC_VERSION,
    id: c.id,
    status,
    ...(status !== 'stopped' && pid ? { pid } : {}),
    bundle: c.bundle,
    ...(c.annotations && Object.keys(c.annotations).length > 0 ? { annotations: c.annotations } : {}),
  };
}

/** Hooks must reach exec intact: no NUL anywhere, env as NAME=value. */
export function checkHooks(hooks: Hooks | undefined): void {
  for (const [kind, list] of Object.entries(hooks ?? {}) as Array<[HookKind, Hook[] | undefined]>) {
    (list ?? []).forEach((h, i) => {
      const field = `hooks.${kind}[${i}]`;
      if (h.path.includes('\0')) throw new ConfigError(`${field}.path`, 'contains a NUL byte');
      h.args?.forEach((a, j) => {
        if (a.includes('\0')) throw new ConfigError(`${field}.args[${j}]`, 'contains a NUL byte');
      });
      h.env?.forEach((e, j) => {
        if (e.includes('\0') || !/^[^=]+=/.test(e)) throw new ConfigError(`${field}.env[${j}]`, 'must be NAME=value');
      });
    });
  }
}

/** The state JSON cut around its pid, for pxoci's init, which knows the pid only when it runs. */
export function stateAroundPid(state: HookState): [string, string] {
  const parts = JSON.stringify({ ...state, pid: 1 }).split('"pid":1');
  // Strings are escaped in JSON, so the key is the only unescaped `"pid":`.
  if (parts.length !== 2) throw new Error('hook state: no single pid key');
  return [`${parts[0]}"pid":`, parts[1]!];
}
