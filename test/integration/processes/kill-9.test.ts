/**
 * SIGKILL under load. 40 clients create apps, send codes, verify TOTP codes and sent codes
 * (three concurrent submissions of each code) against one process on PostgreSQL + Redis; the
 * process is killed mid-run and a new one started on the same database. Everything that was
 * acknowledged with a 2xx must be there afterwards, in the API and in the log itself; no code
 * is ever approved twice, not even one whose approval was committed but never acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { codeFromOutbox, enrollTotp, newApp, newOperator, totpAt } from '../../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../../support/http-client.js';
import {
  compileService,
  eventually,
  readEventLog,
  startDeploymentBackends,
  startServiceProcess,
  type DeploymentBackends,
  type ServiceProcess,
} from '../../support/service-process.js';

const PERIOD_MS = 30_000;
const CLIENTS = 40;
const KILL_AFTER_MS = 1500;
const CONTINUE_FOR_MS = 1500;
const USERS = 200;
const CHALLENGES = 120;
const SUBMISSIONS = 3;

type Tally = Map<string, number>;
const bump = (tally: Tally, key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

/** Runs `task` over `items` with at most `width` in flight. */
const inBatches = async <T, R>(items: readonly T[], width: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map((item, j) => task(item, i + j)))));
  return results;
};

describe('a service process killed with SIGKILL under load', () => {
  let backends: DeploymentBackends;
  let env: Record<string, string>;
  let first: ServiceProcess;
  let second: ServiceProcess;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  let apiKey: string;
  let users: { username: string; enrollmentId: string; code: string; step: number }[];
  let challenges: { challengeId: string; code: string }[];

  // What the clients were told.
  const createdApps: string[] = [];
  const sentChallenges: string[] = [];
  const approvedTotp: Tally = new Map(); // username -> 200s for its one code
  const approvedChallenges: Tally = new Map(); // challenge id -> 200s
  const attemptedUsers = new Set<number>();
  const attemptedChallenges = new Set<number>();
  let lostRequests = 0;
  const serverErrors: string[] = [];

  beforeAll(async () => {
    await compileService();
    backends = await startDeploymentBackends('kill9');
    // The clients create apps as fast as they can: past 100 (APPS_PER_OPERATOR's default) the
    // rest would be refused, and the new process would seem to create none.
    env = { ...backends.env, SENDS_PER_IP_PER_HOUR: '1000000', APPS_PER_OPERATOR: '100000', LOG_LEVEL: 'warn' };
    first = await startServiceProcess({ env: { ...env, LOG_LEVEL: 'info' } });
    const client = createClient(first.url);
    operator = await newOperator(client);
    apiKey = (await newApp(client, operator.token)).apiKey;
    const enabledAt = new Date();
    const step = Math.floor(enabledAt.getTime() / PERIOD_MS) + 1;
    // Each user's enabling step is consumed; the next step's code is inside the window from now on.
    users = await inBatches(Array.from({ length: USERS }, (_, i) => `user${i}`), 20, async (username) => {
      const { secret, enrollmentId } = await enrollTotp(client, apiKey, username, () => enabledAt);
      return { username, enrollmentId, code: totpAt(secret, new Date(step * PERIOD_MS)), step };
    });
    challenges = await inBatches(Array.from({ length: CHALLENGES }, (_, i) => `pre${i}`), 20, async (username) => {
      const sent = await client.post('/api/code/send', { apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });
      if (sent.status !== 202) throw new Error(`send failed: ${sent.status} ${sent.text}`);
      return { challengeId: sent.body.challenge_id as string, code: await codeFromOutbox(backends.outboxFile, sent.body.challenge_id, 1, 15_000) };
    });
  }, 180_000);

  afterAll(() => backends?.close(), 30_000);

  const verifyTotp = (client: Client, i: number) =>
    client.post('/api/code/verify', { apiKey, body: { username: users[i]!.username, otp: users[i]!.code } });
  const verifyChallenge = (client: Client, i: number) =>
    client.post('/api/code/verify', { apiKey, body: { challenge_id: challenges[i]!.challengeId, otp: challenges[i]!.code } });

  let nextUser = 0;
  let nextChallenge = 0;
  let op = 0;
  let serial = 0;
  /** One request: an answer is recorded, no answer means the process died with it in flight. */
  const submit = async (request: () => Promise<HttpResponse>, onAnswer: (answer: HttpResponse) => void): Promise<void> => {
    let answer: HttpResponse;
    try {
      answer = await request();
    } catch {
      lostRequests++;
      return;
    }
    if (answer.status >= 500) serverErrors.push(`${answer.status} ${answer.text}`);
    onAnswer(answer);
  };
  const iteration = async (client: Client): Promise<void> => {
    const kind = op++ % 4;
    if (kind === 2 && nextUser < users.length) {
      const i = nextUser++;
      attemptedUsers.add(i);
      const one = () => submit(() => verifyTotp(client, i), (r) => void (r.status === 200 && bump(approvedTotp, users[i]!.username)));
      await Promise.all(Array.from({ length: SUBMISSIONS }, one));
    } else if (kind === 3 && nextChallenge < challenges.length) {
      const i = nextChallenge++;
      attemptedChallenges.add(i);
      const one = () => submit(() => verifyChallenge(client, i), (r) => void (r.status === 200 && bump(approvedChallenges, challenges[i]!.challengeId)));
      await Promise.all(Array.from({ length: SUBMISSIONS }, one));
    } else if (kind % 2 === 0) {
      const name = `load ${serial++}`;
      await submit(() => client.post('/api/app', { token: operator.token, body: { name } }), (r) => void (r.status === 201 && createdApps.push(r.body.id)));
    } else {
      const username = `load${serial++}`;
      const body = { username, channel: 'EMAIL', to: `${username}@example.com` };
      await submit(() => client.post('/api/code/send', { apiKey, body }), (r) => void (r.status === 202 && sentChallenges.push(r.body.challenge_id)));
    }
  };
  const runLoad = (service: ServiceProcess, until: () => boolean) =>
    Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = createClient(service.url);
        while (!until()) await iteration(client);
      }),
    );

  it('acknowledges work, then dies mid-run', async () => {
    // After KILL_AFTER_MS, once every kind of request has been acknowledged at least once: on
    // a slow machine the first answers may take longer than that.
    const killMidRun = async () => {
      await sleep(KILL_AFTER_MS);
      const acknowledgedAll = async () => createdApps.length > 0 && sentChallenges.length > 0 && approvedTotp.size > 0 && approvedChallenges.size > 0;
      // Killed even if not: the assertions below then name the kind that never was.
      await eventually(acknowledgedAll, 20_000, 'every kind of request acknowledged', 20).catch(() => undefined);
      first.kill('SIGKILL');
    };
    void killMidRun();
    await runLoad(first, () => first.exited());
    expect(await first.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });

    // The kill landed mid-run: work was acknowledged, and requests were cut off.
    expect(createdApps.length).toBeGreaterThan(0);
    expect(sentChallenges.length).toBeGreaterThan(0);
    expect(approvedTotp.size).toBeGreaterThan(0);
    expect(approvedChallenges.size).toBeGreaterThan(0);
    expect(lostRequests).toBeGreaterThan(0);
    expect(serverErrors).toEqual([]);
  }, 60_000);

  it('finds every acknowledged effect through a new process on the same database', async () => {
    second = await startServiceProcess({ env });
    const client = createClient(second.url);
    const apps = await inBatches(createdApps, 20, (id) => client.get(`/api/app/${id}`, { token: operator.token }));
    expect(apps.filter((r) => r.status !== 200).map((r) => r.text)).toEqual([]);
    const sends = await inBatches(sentChallenges, 20, (id) => client.get(`/api/code/${id}`, { apiKey }));
    expect(sends.filter((r) => r.status !== 200 || r.body.status !== 'PENDING').map((r) => r.text)).toEqual([]);
    for (const id of approvedChallenges.keys()) expect((await client.get(`/api/code/${id}`, { apiKey })).body.status).toBe('APPROVED');
  }, 60_000);

  it('carries on under load on the new process', async () => {
    const before = { apps: createdApps.length, sends: sentChallenges.length, lost: lostRequests };
    const deadline = Date.now() + CONTINUE_FOR_MS;
    await runLoad(second, () => Date.now() > deadline);
    expect(createdApps.length).toBeGreaterThan(before.apps);
    expect(sentChallenges.length).toBeGreaterThan(before.sends);
    expect(lostRequests).toBe(before.lost);
    expect(serverErrors).toEqual([]);
  }, 60_000);

  it('never approves a code twice, across the kill: each code submitted again is refused if it was ever approved', async () => {
    const client = createClient(second.url);
    // The re-submission proves the step consumed only while that step is still inside the ±1 window.
    expect(Date.now()).toBeLessThan((users[0]!.step + 2) * PERIOD_MS);
    await inBatches([...attemptedUsers], 20, async (i) => {
      const answer = await verifyTotp(client, i);
      if (answer.status === 200) bump(approvedTotp, users[i]!.username);
      else if (approvedTotp.has(users[i]!.username)) expect([answer.status, answer.body.code]).toEqual([401, 'INVALID_CODE']);
    });
    await inBatches([...attemptedChallenges], 20, async (i) => {
      if ((await verifyChallenge(client, i)).status === 200) bump(approvedChallenges, challenges[i]!.challengeId);
    });
    expect([...approvedTotp].filter(([, n]) => n > 1)).toEqual([]);
    expect([...approvedChallenges].filter(([, n]) => n > 1)).toEqual([]);
  }, 60_000);

  it('keeps a gap-free log holding every acknowledged event, each approval recorded once', async () => {
    const log = await readEventLog(backends.schema.url);
    expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
    const streams = new Map<string, typeof log>();
    for (const event of log) streams.set(event.stream, [...(streams.get(event.stream) ?? []), event]);
    for (const events of streams.values()) expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    const types = (stream: string) => (streams.get(stream) ?? []).map((e) => e.type);

    expect(createdApps.filter((id) => !types(`app-${id}`).includes('AppRegistered'))).toEqual([]);
    expect(sentChallenges.filter((id) => !types(`challenge-${id}`).includes('ChallengeIssued'))).toEqual([]);
    for (const id of approvedChallenges.keys()) expect(types(`challenge-${id}`).filter((t) => t === 'ChallengeApproved')).toHaveLength(1);
    for (const user of users.filter((u) => approvedTotp.has(u.username))) {
      const consumed = (streams.get(`enrollment-${user.enrollmentId}`) ?? []).filter((e) => e.type === 'TotpStepConsumed').map((e) => e.data.step);
      expect(consumed).toEqual([user.step - 1, user.step]); // enabling step, then the verified one, once
    }
  }, 60_000);
});
