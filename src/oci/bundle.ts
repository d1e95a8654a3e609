// Validating a bundle's config.json against schemas/config-schema.json (precompiled ajv validators).
import { isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { validateConfig, validateProcess as validateProcessSchema, validateResources as validateResourcesSchema } from './generated/validators.js';
import type { OciProcess, OciResources, OciSpec } from './generated/schemas.js';
import { ConfigError } from './errors.js';

export type { OciSpec, OciProcess, OciResources };

/** Called with the path of each property the schema does not know (`linux.bogus`), which is then ignored. */
export type UnknownProperty = (field: string) => void;

/** The int64/uint64 limits of the schema, which a JavaScript number prints rounded. */
const GO_INTEGER_LIMITS = new Map([
  [2 ** 63, '9223372036854775807 (an int64)'],
  [-(2 ** 63), '-9223372036854775808 (an int64)'],
  [2 ** 64, '18446744073709551615 (a uint64)'],
]);

const jsonPath = (instancePath: string) => instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');

/** The schema error as `<prefix>: <field>: <rule>`; with `field`, the field path starts there
 *  instead (a part of config.json read on its own, e.g. linux.resources from `update -r`). */
function describe(prefix: string, e: ErrorObject | undefined, field?: string): ConfigError {
  if (!e) return new ConfigError(prefix, 'invalid');
  const path = jsonPath(e.instancePath);
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

/** The object a JSON pointer from ajv names ('' is the document itself). */
function at(doc: unknown, instancePath: string): Record<string, unknown> {
  let node = doc as Record<string, unknown>;
  for (const part of instancePath.split('/').slice(1)) node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Record<string, unknown>;
  return node;
}

/**
 * The spec's "Extensibility": a runtime that meets a property it does not know MUST NOT fail on it
 * (config.md). The schema still says additionalProperties: false, so the committed validators stay
 * strict and every shape error keeps its message; each unknown property they stop at is reported,
 * removed from this parsed copy, and validation goes on. The schema has no oneOf/anyOf, so such an
 * error always means the property is unknown where it stands, never a branch that did not match.
 */
function validate(prefix: string, validator: typeof validateConfig, json: unknown, onUnknown?: UnknownProperty): void {
  while (!validator(json)) {
    const e = validator.errors?.[0];
    if (e?.keyword !== 'additionalProperties' || !onUnknown) throw describe(prefix, e);
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    const path = jsonPath(e.instancePath);
    onUnknown(`${prefix}: ${path ? path + '.' : ''}${extra}`);
    delete at(json, e.instancePath)[extra];
  }
}

/** Without onUnknown an unknown property is an error (the schema alone); pxoci's commands pass one. */
export function validateSpec(json: unknown, onUnknown?: UnknownProperty): OciSpec {
  validate('config.json', validateConfig, json, onUnknown);
  return json as OciSpec;
}

export function validateProcess(json: unknown, onUnknown?: UnknownProperty): OciProcess {
  validate('process', validateProcessSchema, json, onUnknown);
  return json as OciProcess;
}

/** A LinuxResources object (`update --resources`), its fields named as in config.json. */
export function validateResources(json: unknown): OciResources {
  if (!validateResourcesSchema(json)) throw describe('linux.resources', validateResourcesSchema.errors?.[0], 'linux.resources');
  return json as OciResources;
}

/** The warning for a property validateSpec/validateProcess ignored. */
export function unknownPropertyWarning(field: string): string {
  return `${field}: unknown property (not in the OCI runtime spec pxoci implements): ignored`;
}

export function resolveRootfs(bundle: string, spec: OciSpec): string {
  return isAbsolute(spec.root.path) ? spec.root.path : resolve(bundle, spec.root.path);
}
