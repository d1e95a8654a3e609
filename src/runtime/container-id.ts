// runc's rule for container ids: what may safely be a directory name. The native front's copy of the
// rule is generated from these two constants (src/cli/front-table.ts).
import { containerIdTooLong, emptyContainerId, invalidContainerId } from './errors.js';

export const CONTAINER_ID_PATTERN = /^[\w+\-.]+$/;
/**
 * The longest id: it is the name of the container's state directory (<root>/<id>), and a file name
 * has at most 255 bytes (NAME_MAX; the id's characters are ASCII, one byte each). Every other name
 * pxoci builds from the id is shorter than its limit at this length: the CT's description line
 * (PVE allows 8192 characters), its hostname (cut to a DNS label).
 */
export const CONTAINER_ID_MAX_LENGTH = 255;

export function checkContainerId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw emptyContainerId();
  if (!CONTAINER_ID_PATTERN.test(id) || id === '.' || id === '..') throw invalidContainerId();
  if (id.length > CONTAINER_ID_MAX_LENGTH) throw containerIdTooLong(CONTAINER_ID_MAX_LENGTH);
  return id;
}
