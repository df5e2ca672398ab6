// autocannon with the bench's fixed shape: 50 connections, summary numbers only.
import autocannon from 'autocannon';

export const CONNECTIONS = 50;

export const runLoad = (options) =>
  new Promise((resolve, reject) => {
    const instance = autocannon({ connections: CONNECTIONS, timeout: 10, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
    // Without a listener autocannon keeps going after an unhandled error; fail instead.
    instance.on('error', reject);
  });

/** The numbers the report needs from an autocannon result. */
export const summarize = (result) => ({
  requests: result.requests.total,
  durationS: result.duration,
  rps: Math.round(result.requests.total / result.duration),
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  maxMs: result.latency.max,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
});
