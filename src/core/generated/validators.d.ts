// Types for the generated ajv standalone validators (validators.js).
import type { ErrorObject } from 'ajv';
interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}
export const validateConfig: Validator;
export const validateProcess: Validator;
export const validateState: Validator;
