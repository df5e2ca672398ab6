/**
 * What the cluster's primary (WEB_CONCURRENCY) and the service processes it forks tell each
 * other: kept apart from both so neither imports the other.
 */
import cluster from 'node:cluster';

/** Set by the cluster's primary on a process it forks to replace one that died. */
export const REFORKED = 'OTP_VERIFY_REFORKED';
/** A service process's message to the cluster's primary once it is built and serves. */
export const BUILT = 'otp-verify:built';

/** This process replaces one of the cluster's that died (REFORKED). */
export const reforkedByPrimary = (): boolean => cluster.isWorker && process.env[REFORKED] === '1';

/** Tells the cluster's primary, if any, that this process is built and serves. */
export const tellPrimaryBuilt = (): void => {
  // The cluster's primary counts a process serving only from here (bound is not built).
  // (Not once the primary has closed the channel to stop it; a failed send is nothing to act on.)
  if (cluster.isWorker && process.connected) process.send?.(BUILT, undefined, undefined, () => undefined);
};
