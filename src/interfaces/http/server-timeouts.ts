import type { Server } from 'node:http';

/**
 * Node's defaults close an idle keep-alive connection after 5 s, while load balancers keep
 * theirs open for 60 s (AWS) or more and reuse them: a request sent on a connection the service
 * is closing at that moment fails (a 502 at the balancer). So idle connections stay open
 * `keepAliveSeconds` (above the balancer's idle timeout), a request's headers must arrive within
 * a second more, and the whole request within two more (Node's default allows five minutes for a
 * slow body).
 */
export const applyServerTimeouts = (server: Server, keepAliveSeconds: number): void => {
  server.keepAliveTimeout = keepAliveSeconds * 1000;
  server.headersTimeout = keepAliveSeconds * 1000 + 1000;
  server.requestTimeout = keepAliveSeconds * 1000 + 2000;
};
