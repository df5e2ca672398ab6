/** How a process ends other than by its graceful shutdown (shutdown.ts). */
import { isRight } from 'fp-ts/lib/Either.js';
import { loadConfig, type Config, type KeysNeeded } from '../../infrastructure/config/config.js';
import { describeError } from '../../infrastructure/logging/describe-error.js';
import type { LogFields, Logger } from '../../application/ports.js';

/**
 * The configuration, or undefined when it does not decode: every problem on stderr, and the
 * process's exit code set to `exitCode`. With `logLine` (the service, whose stdout is its log),
 * the same problems also go to stdout as one JSON line, as every other log line does, so a log
 * pipeline that reads JSON finds why the process would not start; commands whose stdout is
 * their output (`audit`) leave it alone. The logger is not used: its level is configuration too.
 */
export const configOrExitCode = (exitCode: number, keys?: KeysNeeded, { logLine = false }: { readonly logLine?: boolean } = {}): Config | undefined => {
  const decoded = loadConfig(process.env, keys);
  if (isRight(decoded)) return decoded.right;
  const { problems } = decoded.left;
  process.stderr.write(`otp-verify: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  if (logLine) process.stdout.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'invalid configuration', problems })}\n`);
  process.exitCode = exitCode;
  return undefined;
};

/**
 * An error nothing caught (a rejected promise included) is logged as one JSON line, then the
 * process exits with code 1 as Node would, and the orchestrator restarts it.
 */
export const exitOnUncaught = (logger: Logger): void => {
  process.on('uncaughtException', (error, origin) => {
    logger.error('uncaught error: exiting', { origin, ...describeError(error) });
    process.exit(1);
  });
};

export type CouldNotStart = (error: unknown, context?: LogFields) => never;

// The port taken, a store out of reach (PostgreSQL refusing, a bad URL): one line, and the
// orchestrator restarts the process. `context` names the settings to look at.
export const couldNotStartWith =
  (logger: Logger): CouldNotStart =>
  (error, context = {}) => {
    logger.error('could not start', { ...describeError(error), ...context });
    process.exit(1);
  };

/**
 * Stops the process at once on SIGTERM or SIGINT until the returned function is called (when
 * the graceful shutdown takes over).
 */
export const stopOnSignalWhileStarting = (logger: Logger): (() => void) => {
  // A signal while the service is still being built: nothing is served or under way yet, so it
  // stops at once, cleanly (a cluster's primary stopping then counts it a clean stop).
  const stopWhileStarting = (signal: NodeJS.Signals) => {
    logger.info('stopped while starting', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', stopWhileStarting);
  process.on('SIGINT', stopWhileStarting);
  return () => {
    process.off('SIGTERM', stopWhileStarting);
    process.off('SIGINT', stopWhileStarting);
  };
};
