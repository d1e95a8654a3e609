// A CT config's [pve:pending] section as PVE applies it (vmconfig_apply_pending): by pct start and
// pct set of a stopped CT, and by the post-stop hook at every stop.
import type { PveConfig } from '../pve/config.js';

export function setKey(c: PveConfig, key: string, value: string | undefined): void {
  if (key === 'description') {
    if (value === undefined) delete c.description;
    else c.description = value;
  } else if (key === 'env') {
    if (value === undefined) delete c.env;
    else c.env = value.split(/\0+/).filter(Boolean);
  } else if (value === undefined) delete c.options[key];
  else c.options[key] = value;
}

export function getKey(c: PveConfig | NonNullable<PveConfig['pending']>, key: string): string | undefined {
  if (key === 'description') return c.description;
  if (key === 'env') return c.env?.join('\0');
  return c.options[key];
}

/** vmconfig_apply_pending for a stopped CT: every pending value and deletion takes effect. */
export function applyPending(config: PveConfig, only?: (key: string) => boolean): PveConfig {
  const c: PveConfig = { ...config, options: { ...config.options } };
  const pending = config.pending;
  if (!pending) return c;
  const rest: NonNullable<PveConfig['pending']> = { options: {}, lxc: pending.lxc, delete: [] };
  for (const k of pending.delete ?? []) {
    if (!only || only(k)) setKey(c, k, undefined);
    else rest.delete!.push(k);
  }
  const values: Record<string, string> = { ...pending.options };
  if (pending.description !== undefined) values.description = pending.description;
  if (pending.env) values.env = pending.env.join('\0');
  for (const [k, v] of Object.entries(values)) {
    if (!only || only(k)) setKey(c, k, v);
    else setKey(rest as PveConfig, k, v);
  }
  const left = Object.keys(rest.options).length || rest.delete!.length || rest.description !== undefined || rest.env;
  if (left) c.pending = rest;
  else delete c.pending;
  return c;
}
