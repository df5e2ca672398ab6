/**
 * DATA_DIR holds the log (argon2 hashes, sealed secrets), the wrapped data keys and, on the
 * embedded default, the master key itself: it and the files the service makes in it are its
 * owner's only, whatever the umask. Files made before (or loosened since) are named in a
 * warning rather than changed: a backup agent may read them under another user.
 */
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The path of `name` in `dir`, both made owner-only unless they exist: the file empty, which
 * SQLite then opens as a new database.
 */
export const privateFile = (dir: string, name: string): string => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return path;
};

const modeOf = (path: string): number | undefined => {
  try {
    return statSync(path).mode;
  } catch {
    return undefined; // not there (yet): nothing to say
  }
};

/**
 * Which of `names` in `dir` other users may read, and `dir` itself (as 'DATA_DIR') when it holds
 * any of them: a directory of none of them (shared storage's unused DATA_DIR) is not reported.
 */
export const filesOpenToOthers = (dir: string, names: readonly string[]): string[] => {
  const present = names.flatMap((name) => {
    const mode = modeOf(join(dir, name));
    return mode === undefined ? [] : [{ name, mode }];
  });
  if (present.length === 0) return [];
  const open = present.filter(({ mode }) => (mode & 0o077) !== 0).map(({ name }) => name);
  return ((modeOf(dir) ?? 0) & 0o077) !== 0 ? ['DATA_DIR', ...open] : open;
};
