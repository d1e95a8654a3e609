// The marker that makes a CT pxoci's: the tag, and description lines naming the container id and a
// MAC of the id and the CT's VMID under the state root's owner key (docs/DESIGN.md, Ownership). The
// notes are readable, and editable, by PVE users: a marker copied into another CT names the wrong
// VMID, and one for another id or VMID cannot be made without the key, which only root can read.
import { createRequire } from 'node:module';
import type { PveConfig } from '../pve/config.js';
import { checkContainerId } from './container-id.js';

/** The PVE tag every CT pxoci makes carries. */
export const PXOCI_TAG = 'pxoci';

/** The state root's secret (runtime/state.ts keeps it in `<root>/@owner-key`). */
export type OwnerKey = Buffer;
export const OWNER_KEY_BYTES = 32;

// node:crypto costs ~2 ms to load: only a call that makes or checks a marker pays for it. (A dynamic
// import() would set up Node's ES module loader in the CommonJS bundle, ~2 ms more.)
let crypto: typeof import('node:crypto') | undefined;
const loadCrypto = () => (crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));

/** What proves CT `vmid` is container `id`'s: HMAC-SHA256(key, id "\n" vmid), hex. */
function ownerMac(key: OwnerKey, id: string, vmid: number): string {
  return loadCrypto().createHmac('sha256', key).update(`${id}\n${vmid}`).digest('hex');
}

/** The description line that says which container a CT is. */
export function ownerLine(id: string): string {
  return `pxoci container ${id}`;
}

function macLine(key: OwnerKey, id: string, vmid: number): string {
  return `pxoci owner ${ownerMac(key, id, vmid)}`;
}

/**
 * The ownership marker written into CT `vmid`'s description. Only checked parts become lines: the id
 * (runc's id rule), the MAC (hex) and the bundle as a JSON string (no raw newline), so nothing from
 * the caller can add a line that claims another container.
 */
export function ownerDescription(id: string, vmid: number, key: OwnerKey, bundle: string): string {
  return [ownerLine(checkContainerId(id)), macLine(key, id, vmid), `bundle ${JSON.stringify(bundle)}`].join('\n');
}

/** pxoci never touches a CT it did not create: CT `vmid`'s config must carry our tag, our id and the
 *  MAC our key gives for that id and that VMID. */
export function ownedBy(conf: PveConfig | undefined, id: string, vmid: number, key: OwnerKey | undefined): boolean {
  if (!conf || !key) return false;
  const tags = (conf.options.tags ?? '').split(/[;, ]+/);
  const lines = (conf.description ?? '').split('\n');
  // The MAC only once the cheap parts match: most CTs of a node are not this container's.
  return tags.includes(PXOCI_TAG) && lines.includes(ownerLine(id)) && lines.includes(macLine(key, id, vmid));
}
