/**
 * Process entry point: decode the environment, build the service, serve HTTP. Load tracing
 * first with `node --import ./dist/infrastructure/telemetry/register.js dist/interfaces/main.js`.
 * Serving is in process/ (serve.ts for one process, cluster-primary.ts for WEB_CONCURRENCY);
 * this file dispatches the command. `worker` and `api` serve with that PROCESS_ROLE.
 */
import { readDevMasterKey } from '../infrastructure/config/dev-secrets.js';
import { createLogger } from '../infrastructure/logging/logger.js';
import { totpCommand } from './cli/totp-code.js';
import { serveClustered } from './process/cluster-primary.js';
import { configOrExitCode } from './process/exits.js';
import { masterKeysOf } from './process/service-keys.js';
import { serviceVersion } from '../infrastructure/version.js';

const [command = 'serve', ...args] = process.argv.slice(2);
if (command === 'version') process.stdout.write(`${serviceVersion}\n`);
else if (command === 'totp') process.exitCode = totpCommand(args);
else if (command === 'serve') await serveClustered();
else if (command === 'worker' || command === 'api') {
  // The role as a command (DESIGN: `node dist/... worker`), the same as PROCESS_ROLE; a
  // PROCESS_ROLE that says otherwise is a mistake worth stopping for, not one to pick a side in.
  const role = process.env['PROCESS_ROLE']?.trim();
  if (role && role !== command) {
    process.stderr.write(`otp-verify: the command "${command}" conflicts with PROCESS_ROLE=${role}; unset PROCESS_ROLE or use "serve"\n`);
    process.exitCode = 2;
  } else {
    process.env['PROCESS_ROLE'] = command; // forked processes (WEB_CONCURRENCY) inherit it
    await serveClustered();
  }
}
else if (command === 'projections' || command === 'audit') {
  // A configuration that does not decode exits 1 (`audit`: 3, "could not run", since its 1
  // means problems found in the log).
  const config = command === 'audit' ? configOrExitCode(3, 'master') : configOrExitCode(1, 'none');
  // Loaded only for these commands: they may need pg, which the embedded default never loads.
  if (config && command === 'projections') {
    const { projectionsCommand } = await import('./cli/projections.js');
    process.exitCode = await projectionsCommand(args, config);
  } else if (config) {
    // stdout carries the report or the export; anything logged goes to stderr.
    const logger = createLogger({ level: config.logLevel, destination: process.stderr });
    const { auditCommand } = await import('./cli/audit.js');
    // The service's master keys; never generated here (a new key would call every seal forged).
    const masterKeys = async () => masterKeysOf(config, config.masterKey ?? (await readDevMasterKey(config.dataDir)));
    process.exitCode = await auditCommand(args, config, masterKeys, logger);
  }
} else if (command === 'keys') {
  // Like audit: the service's master keys, never generated here (a new key would open nothing).
  const config = configOrExitCode(3, 'master');
  if (config) {
    const logger = createLogger({ level: config.logLevel, destination: process.stderr });
    const { keysCommand } = await import('./cli/keys.js');
    process.exitCode = await keysCommand(args, config, async () => masterKeysOf(config, config.masterKey ?? (await readDevMasterKey(config.dataDir))), logger);
  }
} else {
  process.stderr.write(`unknown command "${command}"; use: serve | worker | api | version | totp <secret> | projections list|rebuild [name...] | audit verify|export | keys status|rewrap\n`);
  process.exitCode = 2;
}
