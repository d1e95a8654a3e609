// pxoci ps [--format table|json] ID [ps options]: the CT's processes as host pids, like runc ps.
import type { Context } from '../runtime/context.js';
import { invalidFormat } from '../runtime/errors.js';
import { checkContainerId } from '../runtime/container-id.js';
import { containerPids, psTable } from '../runtime/ct-processes.js';

export async function ps(ctx: Context, rawId: string, o: { format?: string; psArgs?: string[] }): Promise<void> {
  const id = checkContainerId(rawId);
  const pids = containerPids(ctx, id);
  const format = o.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw invalidFormat(format);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return;
  }
  process.stdout.write(await psTable(pids, o.psArgs));
}
