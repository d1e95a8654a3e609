// The marker that makes a CT pxoci's: the tag, and description lines naming the container id and the
// owner token of the state dir that made it (docs/DESIGN.md, Ownership).
import type { PveConfig } from '../pve/config.js';
import { RuntimeError } from './errors.js';
import { checkContainerId } from './container-id.js';

/** The PVE tag every CT pxoci makes carries. */
export const PXOCI_TAG = 'pxoci';

/** An owner token as the state store makes it: 16 random bytes in hex. */
export const isOwnerToken = (text: string) => /^[0-9a-f]{32}$/.test(text);

/** The description line that says which container a CT is. */
export function ownerLine(id: string): string {
  return `pxoci container ${id}`;
}

/** The description line that says which state dir made it: another root with the same id has another token. */
function tokenLine(token: string): string {
  return `pxoci owner ${token}`;
}

/**
 * The ownership marker written into a CT's description. Only checked parts become lines: the id
 * (runc's id rule), the token (hex) and the bundle as a JSON string (no raw newline), so nothing
 * from the caller can add a line that claims another container.
 */
export function ownerDescription(id: string, token: string, bundle: string): string {
  if (!isOwnerToken(token)) throw new RuntimeError('internal error: malformed owner token');
  return [ownerLine(checkContainerId(id)), tokenLine(token), `bundle ${JSON.stringify(bundle)}`].join('\n');
}

/** pxoci never touches a CT it did not create: its config must carry our tag, our id and our token. */
export function ownedBy(conf: PveConfig | undefined, id: string, token: string | undefined): boolean {
  if (!conf || !token) return false;
  const tags = (conf.options.tags ?? '').split(/[;, ]+/);
  const lines = (conf.description ?? '').split('\n');
  return tags.includes(PXOCI_TAG) && lines.includes(ownerLine(id)) && lines.includes(tokenLine(token));
}

