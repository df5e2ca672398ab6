/** What the service is built from: the configuration mapped onto the composition root's options. */
import type { ServiceOptions } from '../../infrastructure/composition-root.js';
import type { Config } from '../../infrastructure/config/config.js';
import type { Logger } from '../../application/ports.js';
import { TWILIO_STATUS_PATH } from '../http/routes/webhooks.js';

export type TwilioStatus = { readonly publicUrl: string; readonly authToken: string };

// Twilio's status callbacks: registered with every message, and taken by this process's HTTP
// route, when PUBLIC_URL says where Twilio reaches the service.
export const twilioStatusOf = (config: Config): TwilioStatus | undefined =>
  config.publicUrl && config.twilioAuthToken ? { publicUrl: config.publicUrl, authToken: config.twilioAuthToken } : undefined;

export const twilioStatusUrlOf = (twilioStatus: TwilioStatus | undefined): string | undefined => twilioStatus && `${twilioStatus.publicUrl}${TWILIO_STATUS_PATH}`;

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

export const serviceOptions = (
  config: Config,
  logger: Logger,
  keys: Pick<ServiceOptions, 'masterKeys' | 'jwt'>,
  twilioStatusUrl: string | undefined,
): ServiceOptions => ({
  dataDir: config.dataDir,
  outboxFile: config.outboxFile,
  logger,
  role: config.processRole,
  stateCacheEntries: config.stateCacheEntries,
  appStalenessMs: config.appStalenessMs,
  limits: {
    loginAttemptsPerIpPerMinute: config.loginAttemptsPerIpPerMinute,
    registrationsPerIpPerHour: config.registrationsPerIpPerHour,
    appsPerOperator: config.appsPerOperator,
    // A provider request's timeout and a few seconds to record its outcome: no longer, since
    // after a crash the sends the dead worker had under way wait out their lease (a handover at
    // SIGTERM waits for them instead). SMTP's timeout applies per phase, so a slow relay can
    // outlast it: at least once, as documented.
    deliveryLeaseSeconds: Math.ceil(config.deliveryTimeoutMs / 1000) + 5,
    sendsPerIpPerHour: config.sendsPerIpPerHour,
    verifyFailuresPerDay: config.verifyFailuresPerDay,
  },
  ...keys,
  ...optional('databaseUrl', config.databaseUrl),
  postgresPoolSize: config.databasePoolSize,
  // 0: as long as it takes.
  ...(config.migrationWaitSeconds > 0 ? { migrationWaitMs: config.migrationWaitSeconds * 1000 } : {}),
  readModelStallMs: config.readModelStallSeconds * 1000,
  argon2: { memoryCostKiB: config.argon2MemoryKiB, timeCost: config.argon2TimeCost },
  ...optional('eventStoreConnectionString', config.eventstoreConnectionString),
  ...optional('redisUrl', config.redisUrl),
  redisPrefix: config.redisKeyPrefix,
  redisTimeoutMs: config.redisTimeoutMs,
  unknownUsersPerApp: config.verifyUnknownUsersPerApp,
  providers: {
    timeoutMs: config.deliveryTimeoutMs,
    ...optional('resendApiKey', config.resendApiKey),
    // Tagged only where the webhooks are taken: see the Upgrading notes in the README.
    ...(config.resendWebhookSecret ? { resendTagged: true } : {}),
    resendRatePerSecond: config.resendRatePerSecond,
    ...optional('emailAddress', config.emailAddress),
    ...optional('smtpUrl', config.smtpUrl),
    ...optional('twilioAccountSid', config.twilioAccountSid),
    ...optional('twilioAuthToken', config.twilioAuthToken),
    ...optional('twilioPhoneNumber', config.twilioPhoneNumber),
    ...optional('twilioWhatsappNumber', config.twilioWhatsappNumber),
    ...optional('twilioWhatsappContentSid', config.twilioWhatsappContentSid),
    ...optional('twilioStatusCallbackUrl', twilioStatusUrl),
  },
});
