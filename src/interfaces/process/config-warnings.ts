/** Settings that start the service, but not as its operator may expect: one line each. */
import { usesEmbeddedStorage, type Config } from '../../infrastructure/config/config.js';
import type { Logger } from '../../application/ports.js';

/** Retired variables still set, and a shared store without Redis. */
export const warnAboutStorage = (config: Config, logger: Logger): void => {
  for (const retired of config.retired) logger.warn(retired);
  if (usesEmbeddedStorage(config) || config.redisUrl) return;
  logger.warn(
    config.databaseUrl
      ? "REDIS_URL is not set: send limits are shared through PostgreSQL, and so are unknown names' counts (a database transaction each), but the other limits (sign-ins per IP) are per process; set it when running several API processes"
      : "REDIS_URL is not set: send limits and unknown names' counts are kept in DATA_DIR/abuse.sqlite, the other limits and single-use claims in this process",
  );
};

/** Providers' webhooks that are not taken, or taken over plain http. */
export const warnAboutWebhooks = (config: Config, logger: Logger, twilioStatusUrl: string | undefined): void => {
  if (config.twilioAuthToken && !config.publicUrl)
    logger.warn('PUBLIC_URL is not set: failures Twilio reports after accepting a message are not seen (no WhatsApp-to-SMS fallback on them)');
  if (config.resendApiKey && !config.resendWebhookSecret)
    logger.info('RESEND_WEBHOOK_SECRET is not set: emails Resend accepts and then cannot deliver (bounced, suppressed) count as sent');
  // Signed, so not forgeable; but Twilio's calls carry the end users' phone numbers.
  if (twilioStatusUrl?.startsWith('http:'))
    logger.warn("PUBLIC_URL is plain http: Twilio's status callbacks carry end users' phone numbers in clear; use https");
};
