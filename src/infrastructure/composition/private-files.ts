/**
 * DATA_DIR holds the log (argon2 hashes, sealed secrets), the wrapped data keys and, on the
 * embedded default, the master key itself: it and the files the service makes in it are its
 * owner's only, whatever the umask. Files made before (or loosened since) are named in a
 * warning rather than changed: a backup agent may read them under another user.
 */
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const createPrivateDir = (dir: string): void => void mkdirSync(dir, { recursive: true, mode: 0o700 });

/** Creates `file` empty, owner-only, unless it exists; SQLite then opens it as a new database. */
export const createPrivateFile = (file: string): void => {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
};

/** Which of `names` in `dir` (and `dir` itself, as 'DATA_DIR') other users may read or enter. */
export const filesOpenToOthers = (dir: string, names: readonly string[]): string[] =>
  [['DATA_DIR', dir] as const, ...names.map((name) => [name, join(dir, name)] as const)].flatMap(([name, path]) => {
    try {
      return (statSync(path).mode & 0o077) !== 0 ? [name] : [];
    } catch {
      return []; // not there (yet): nothing to say
    }
  });
