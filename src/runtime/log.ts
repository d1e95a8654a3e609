// runc's logging contract: errors go to stderr as a plain line AND, with --log, as exactly one record in
// the log file. podman 4.3 reads that file as ONE JSON object, so nothing else may be written there
// unless --debug asks for it.
import { appendToFile } from '../lib/atomic-files.js';

export interface LogOptions {
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

let options: LogOptions = { logFormat: 'text', debug: false };

export function configureLog(o: LogOptions): void {
  options = o;
}

function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function record(level: 'error' | 'warning' | 'debug', msg: string): void {
  if (!options.log) return;
  const time = rfc3339();
  const line =
    options.logFormat === 'json'
      ? JSON.stringify({ level, msg, time })
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
  try {
    // A file (and directories) pxoci makes is root's only: messages carry paths and ids. A file the
    // caller made keeps its mode, as with runc, which never chmods it either. The path may be in a
    // directory others can write: never written through a link (atomic-files.ts).
    appendToFile(options.log, line + '\n', 0o600, 0o700);
  } catch (e) {
    // An unwritable log must not hide the real error, which still reaches stderr; say why it has no record.
    process.stderr.write(`pxoci: no --log record: ${(e as Error).message}\n`);
  }
}

export function logError(msg: string): void {
  heldWarnings = [];
  process.stderr.write(msg + '\n');
  record('error', msg);
}

export function logWarning(msg: string): void {
  if (options.debug) record('warning', msg);
}

let heldWarnings: string[] = [];

/**
 * A warning the caller must see (runc's logrus.Warn): a stderr line and a --log record. podman reads
 * the JSON log only when create fails, and then as ONE object: a warning record before the error record
 * would hide the error (podman falls back to "container create failed"). So in JSON, warnings are held
 * until the command succeeds (flushWarnings), and an error replaces them (logError).
 */
export function warn(msg: string): void {
  process.stderr.write(msg + '\n');
  if (options.logFormat === 'json') heldWarnings.push(msg);
  else record('warning', msg);
}

/** The command succeeded: the held warnings go to the log. */
export function flushWarnings(): void {
  for (const msg of heldWarnings) record('warning', msg);
  heldWarnings = [];
}

export function logDebug(msg: string): void {
  if (options.debug) record('debug', msg);
}
