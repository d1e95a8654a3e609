// Validating a bundle's config.json against schemas/config-schema.json (precompiled ajv validators).
import { isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { validateConfig, validateProcess as validateProcessSchema, validateResources as validateResourcesSchema } from './generated/validators.js';
import type { OciProcess, OciResources, OciSpec } from './generated/schemas.js';
import { ConfigError } from './errors.js';

export type { OciSpec, OciProcess, OciResources };

/** The int64/uint64 limits of the schema, which a JavaScript number prints rounded. */
const GO_INTEGER_LIMITS = new Map([
  [2 ** 63, '9223372036854775807 (an int64)'],
  [-(2 ** 63), '-9223372036854775808 (an int64)'],
  [2 ** 64, '18446744073709551615 (a uint64)'],
]);

/** The first schema error as `<prefix>: <field>: <rule>`; with `field`, the field path starts there
 *  instead (a part of config.json read on its own, e.g. linux.resources from `update -r`). */
function describe(prefix: string, errors: ErrorObject[] | null | undefined, field?: string): ConfigError {
  const e = errors?.[0];
  if (!e) return new ConfigError(prefix, 'invalid');
  const path = e.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
  const name = (rest: string) => (field ? [field, rest].filter(Boolean).join('.') : `${prefix}: ${rest || '(top level)'}`);
  let msg = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return new ConfigError(name(path ? `${path}.${extra}` : extra), 'unknown field (not in the OCI runtime spec)');
  }
  if (e.keyword === 'enum') msg += `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'maximum' || e.keyword === 'minimum') {
    const { comparison, limit } = e.params as { comparison: string; limit: number };
    const exact = GO_INTEGER_LIMITS.get(limit);
    if (exact) msg = `must be ${comparison} ${exact}`;
  }
  return new ConfigError(name(path), msg);
}

export function validateSpec(json: unknown): OciSpec {
  if (!validateConfig(json)) throw describe('config.json', validateConfig.errors);
  return json as OciSpec;
}

export function validateProcess(json: unknown): OciProcess {
  if (!validateProcessSchema(json)) throw describe('process', validateProcessSchema.errors);
  return json as OciProcess;
}

/** A LinuxResources object (`update --resources`), its fields named as in config.json. */
export function validateResources(json: unknown): OciResources {
  if (!validateResourcesSchema(json)) throw describe('linux.resources', validateResourcesSchema.errors, 'linux.resources');
  return json as OciResources;
}

export function resolveRootfs(bundle: string, spec: OciSpec): string {
  return isAbsolute(spec.root.path) ? spec.root.path : resolve(bundle, spec.root.path);
}
