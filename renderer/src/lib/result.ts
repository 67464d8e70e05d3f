import type { Result } from '../../../shared/contract.js';
import { FerryError } from '../../../shared/errors.js';

/** A Result as its value, or a FerryError thrown with the engine's code and message. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new FerryError(result.error.code, result.error.message);
}
