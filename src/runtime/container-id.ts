// runc's rule for container ids: what may safely be a directory name. The native front's copy of the
// rule is generated from these two constants (src/cli/front-table.ts).
import { emptyContainerId, invalidContainerId } from './errors.js';

export const CONTAINER_ID_PATTERN = /^[\w+\-.]+$/;
export const CONTAINER_ID_MAX_LENGTH = 1024;

export function checkContainerId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw emptyContainerId();
  if (!CONTAINER_ID_PATTERN.test(id) || id === '.' || id === '..' || id.length > CONTAINER_ID_MAX_LENGTH) {
    throw invalidContainerId();
  }
  return id;
}
