// pxoci ps [--format table|json] ID [ps options]: the CT's processes as host pids, like runc ps.
import type { Context } from '../runtime/context.js';
import { RuntimeError, invalidFormat, noPidColumn } from '../runtime/errors.js';
import { checkAllowed } from '../runtime/lifecycle.js';
import { checkContainerId } from '../runtime/container-id.js';
import { containerStatus } from '../runtime/status.js';
import { run } from '../runtime/node-driver.js';
import { ctPids } from './kill.js';

export async function ps(ctx: Context, rawId: string, o: { format?: string; psArgs?: string[] }): Promise<void> {
  const id = checkContainerId(rawId);
  const rec = ctx.store.load(id);
  const format = o.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw invalidFormat(format);
  const status = containerStatus(ctx.store, rec);
  checkAllowed('ps', status, id);
  const pids = status === 'stopped' ? [] : ctPids(rec);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return;
  }
  const args = o.psArgs && o.psArgs.length > 0 ? o.psArgs : ['-ef'];
  const r = await run('/bin/ps', args);
  if (r.code !== 0) throw new RuntimeError(`ps ${args.join(' ')} failed: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw noPidColumn();
  const wanted = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    const pid = Number(line.trim().split(/\s+/)[pidColumn]);
    if (wanted.has(pid)) out.push(line);
  }
  process.stdout.write(out.join('\n') + '\n');
}
