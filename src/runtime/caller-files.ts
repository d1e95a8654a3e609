// JSON files the caller names (the bundle's config.json, exec --process): one reading, so that a
// missing file is reported in Go's os.Open words everywhere, as runc reports it.
import { readFileSync } from 'node:fs';
import { RuntimeError, openFailed } from './errors.js';

/** Reads and parses `path` (`-` is stdin); `label` names the file in a parse error. */
export function readJsonFile(path: string, label = path): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw openFailed(path, e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${label}: invalid JSON: ${(e as Error).message}`);
  }
}
