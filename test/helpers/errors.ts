/** Error helpers for tests: they assert on codes, never on message text. */
import { FerryError } from '../../shared/errors.js';

/** The FerryError code `f` throws, undefined when it throws nothing (anything else is named). */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof FerryError ? err.code : `not a FerryError: ${String(err)}`;
  }
  return undefined;
}
