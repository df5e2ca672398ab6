/**
 * The usernames the unknown-user decoy forgets to stay within VERIFY_UNKNOWN_USERS_PER_APP, as the
 * counter `otp_verify.decoy.forgotten` (by store: `redis`, `postgres`, `sqlite` or `process`), so a dashboard shows an
 * enumeration attempt (or a figure too low) as it happens, where the log says it once an hour
 * per app. No app id on it: a label per app would grow the series with the apps. Without a
 * metrics exporter the meter is OpenTelemetry's no-op.
 */
import { metrics } from '@opentelemetry/api';
import type { DecoyStore } from '../../application/ports.js';

export const measuredDecoyStore = (store: DecoyStore, name: 'redis' | 'postgres' | 'sqlite' | 'process'): DecoyStore => {
  const forgotten = metrics.getMeter('otp-verify').createCounter('otp_verify.decoy.forgotten', {
    description: 'Unknown usernames the decoy forgot to stay within its bound per app',
  });
  return {
    read: store.read,
    write: async (...args) => {
      const outcome = await store.write(...args);
      if (outcome.forgot > 0) forgotten.add(outcome.forgot, { store: name });
      return outcome;
    },
  };
};
