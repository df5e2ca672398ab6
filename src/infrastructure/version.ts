import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'otp-verify';

/** The version in the nearest package.json of this package above `from`; undefined if none. */
const versionAbove = (from: string): string | undefined => {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const found = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { readonly name?: unknown; readonly version?: unknown };
      if (found.name === PACKAGE && typeof found.version === 'string') return found.version;
    } catch {
      // no package.json here, or not one to read: look higher
    }
    if (dirname(dir) === dir) return undefined;
  }
};

/**
 * The release this build is: package.json's `version`, `0.<stop>.<fix>` (each stop of the
 * project is a release, and docs/UPGRADING.md has a section per stop). Shown in the `listening`
 * log line, as traces' `service.version`, by `main.js version` and as the OpenAPI document's
 * `info.version`, so an operator can tell which notes apply to what runs. Read from the
 * package's own package.json, the nearest one above the build that names it (`dist/`, `src/`,
 * or a test's compiled copy under node_modules/.cache).
 */
export const serviceVersion: string = versionAbove(dirname(fileURLToPath(import.meta.url))) ?? '0.0.0-unknown';
