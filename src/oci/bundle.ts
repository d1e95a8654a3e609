// Validating a bundle's config.json against schemas/config-schema.json (precompiled ajv validators).
import { isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { validateConfig, validateProcess as validateProcessSchema } from './generated/validators.js';
import type { OciProcess, OciSpec } from './generated/schemas.js';
import { ConfigError } from './errors.js';

export type { OciSpec, OciProcess };

function describe(prefix: string, errors: ErrorObject[] | null | undefined): ConfigError {
  const e = errors?.[0];
  if (!e) return new ConfigError(prefix, 'invalid');
  const path = e.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
  let msg = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return new ConfigError(`${prefix}: ${path ? path + '.' : ''}${extra}`, 'unknown field (not in the OCI runtime spec)');
  }
  if (e.keyword === 'enum') msg += `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return new ConfigError(`${prefix}: ${path || '(top level)'}`, msg);
}

export function validateSpec(json: unknown): OciSpec {
  if (!validateConfig(json)) throw describe('config.json', validateConfig.errors);
  return json as OciSpec;
}

export function validateProcess(json: unknown): OciProcess {
  if (!validateProcessSchema(json)) throw describe('process', validateProcessSchema.errors);
  return json as OciProcess;
}

export function resolveRootfs(bundle: string, spec: OciSpec): string {
  return isAbsolute(spec.root.path) ? spec.root.path : resolve(bundle, spec.root.path);
}
