// Every container of a state root as `list` shows it: its OCI state and its VMID.
import type { Context } from './context.js';
import { PermissionDenied } from './errors.js';
import { containerStatus, ociState, type OciStateJson } from './status.js';

export function listContainers(ctx: Context): Array<OciStateJson & { vmid?: number }> {
  const states = [];
  for (const id of ctx.store.ids()) {
    try {
      const rec = ctx.store.load(id);
      states.push({ ...ociState(rec, containerStatus(ctx.store, rec)), vmid: rec.vmid });
    } catch (e) {
      // a create in progress, or a corrupt entry: `state ID` says which. A caller who may not read
      // the records gets no list rather than an empty one.
      if (e instanceof PermissionDenied) throw e;
    }
  }
  return states;
}
