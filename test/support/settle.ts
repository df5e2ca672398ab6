import type { TestServer } from './test-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the background delivery worker has nothing due or under way (a provider's call
 * in progress, its outcome not appended yet) and the log has stopped growing,
 * so a test can compare snapshots or head positions without racing asynchronous writes. It
 * also expires what the test clock has put past its expiry, as the worker's sweep would: that
 * sweep runs every 10 s of real time, so on a slow machine it could otherwise land in the
 * middle of a test, appending after the head the test took.
 */
export const settle = async (server: TestServer, { quietMs = 60, timeoutMs = 5000 } = {}): Promise<number> => {
  const deadline = Date.now() + timeoutMs;
  let head = await server.service.deps.store.headPosition();
  for (;;) {
    await sleep(quietMs);
    const expired = await server.service.handlers.expireChallenges();
    const due = await server.service.handlers.listDueDeliveries();
    const next = await server.service.deps.store.headPosition();
    const underWay = server.deliveriesUnderWay();
    if (expired === 0 && due.length === 0 && underWay === 0 && next === head) return head;
    if (Date.now() > deadline) throw new Error(`the service did not settle within ${timeoutMs} ms (${due.length} deliveries due, ${underWay} under way)`);
    head = next;
  }
};
