// Scenario "TOTP verification": POST /api/code/verify {username, otp} with real, unused codes.
import { setTimeout as sleep } from 'node:timers/promises';
import { TOTP_PARAMS, enrollTotpUsers, stepAt, totp } from './api.mjs';
import { runLoad, summarize } from './load.mjs';
import { STATS_LAG_MS } from './measure.mjs';

const STEP_MS = TOTP_PARAMS.period * 1000;
/**
 * Steps whose codes a user can verify while a step is current, in the order they are handed
 * out: the previous one (a code typed just after its step ended), the current one, the next one
 * (a phone whose clock runs a little ahead). The policy's window of 1 accepts all three, and the
 * server refuses a step at or below the last one it accepted, so each user's codes go out in
 * this order.
 */
const PASSES = [
  { delta: -1, name: 'late' },
  { delta: 0, name: 'current' },
  { delta: 1, name: 'ahead' },
];
/**
 * The fewest codes every user has over a run that straddles a boundary and starts at least two
 * steps after the user's last code (see straddleBoundary): the late code of the run's first
 * step, the codes of its two steps and of the step after them.
 */
const CODES_PER_USER_PER_RUN = 4;
/**
 * A late code handed out this close to the step's end can reach the service after it, two steps
 * old and refused (19 such 401s in a run of 2026-11-30): near the end the picker starts with the
 * current codes instead. Ten times the p99 latency the runs see.
 */
const LATE_MARGIN_MS = 500;

/**
 * Hands out one never-used (user, step) pair per request: every user's code of the previous
 * step, then of the current one, then of the next one (the server does the same work for each,
 * give or take one or two HMACs of its candidates). Past that it must replay a used code, which
 * the service refuses (401) without appending: those are counted as `exhausted`.
 */
export const createCodePicker = (users) => {
  const counts = { late: 0, current: 0, ahead: 0, exhausted: 0 };
  let step = -1;
  let pass = 0;
  let cursor = 0;
  let replay = 0;
  const code = (user, s) => totp.generate(user.secret, TOTP_PARAMS, new Date(s * STEP_MS));
  const next = () => {
    const now = stepAt(Date.now());
    if (now !== step) [step, pass, cursor] = [now, 0, 0];
    if (pass === 0 && Date.now() >= (step + 1) * STEP_MS - LATE_MARGIN_MS) [pass, cursor] = [1, 0];
    while (pass < PASSES.length) {
      while (cursor < users.length) {
        const user = users[cursor++];
        const { delta, name } = PASSES[pass];
        const target = step + delta;
        if (user.usedStep >= target) continue;
        user.usedStep = target;
        counts[name] += 1;
        return { username: user.username, otp: code(user, target) };
      }
      [pass, cursor] = [pass + 1, 0];
    }
    counts.exhausted += 1;
    const user = users[replay++ % users.length];
    return { username: user.username, otp: code(user, step) };
  };
  return { next, counts: () => ({ ...counts }) };
};

/**
 * Sleeps until `beforeMs` before a step boundary, so that the run straddles two steps, the first
 * of them two after the last step any code was used in (enabling, the pilot): every user then
 * has CODES_PER_USER_PER_RUN codes over the run (the picker never reuses a code). This waits up
 * to two steps longer than the nearest boundary would; with the boundary right after the last
 * used step, the users who had used it had two codes left, and at about 4,000 req/s the run
 * replayed codes (cheap 401s).
 */
const straddleBoundary = async (users, beforeMs, notBefore) => {
  const lastUsed = users.reduce((max, u) => Math.max(max, u.usedStep), -1);
  let boundary = Math.max(stepAt(Date.now()) + 1, lastUsed + 3);
  while (boundary * STEP_MS - beforeMs < Math.max(notBefore, Date.now() + 100)) boundary += 1;
  const wait = boundary * STEP_MS - beforeMs - Date.now();
  await sleep(wait);
  return wait;
};

const verifyLoad = async (base, apiKey, picker, duration) => {
  const errorCodes = {};
  const result = await runLoad({
    url: base,
    duration,
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    requests: [
      {
        method: 'POST',
        path: '/api/code/verify',
        setupRequest: (req) => ({ ...req, body: JSON.stringify(picker.next()) }),
        onResponse: (status, body) => {
          if (status === 200) return;
          let code = `${status}`;
          try {
            code = `${status} ${JSON.parse(body).code}`;
          } catch {
            /* not JSON */
          }
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        },
      },
    ],
  });
  return { ...summarize(result), errorCodes };
};

export const runTotpScenario = async ({ base, call, apiKey, log, initialUsers, maxUsers, warmupS, durationS, pilotS, settle, startWindow, countTransactions }) => {
  let t0 = Date.now();
  const users = await enrollTotpUsers(call, apiKey, initialUsers, { prefix: 'a', concurrency: 48 });
  const enrollRate = Math.round((users.length / (Date.now() - t0)) * 1000);
  log(`enrolled ${users.length} TOTP users (${enrollRate}/s: QR rendering dominates enrollment)`);

  // Pilot (doubles as a first warm-up): how fast users get used up. Users enabled in this very
  // step have only their next code left, which the picker knows.
  const pilot = await verifyLoad(base, apiKey, createCodePicker(users), pilotS);
  log(`pilot: ${pilot.rps} req/s over ${pilotS} s`);
  // The step boundary falls in the middle of the measured run (see straddleBoundary).
  const beforeBoundaryS = warmupS + durationS / 2;
  // Twice the pilot's rate: it runs colder, on a shared machine, and often comes out slower.
  const needed = Math.ceil((pilot.rps * (warmupS + durationS) * 2) / CODES_PER_USER_PER_RUN);
  const target = Math.min(maxUsers, Math.max(users.length, needed));
  if (target > users.length) {
    t0 = Date.now();
    users.push(...(await enrollTotpUsers(call, apiKey, target - users.length, { prefix: 'b', concurrency: 48 })));
    log(`enrolled ${target - initialUsers} more (total ${users.length}) in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  const lastWork = Date.now();
  const coverage = { users: users.length, neededForRun: needed, capped: needed > users.length, codesPerUserPerRun: CODES_PER_USER_PER_RUN };

  const quiet = await settle();
  // The transaction count below must not catch statistics of the enrollment still in flight.
  const waited = await straddleBoundary(users, beforeBoundaryS * 1000, lastWork + STATS_LAG_MS);
  log(`waited ${Math.round(waited / 1000)} s to put a TOTP step boundary mid-run; warm-up ${warmupS} s, then ${durationS} s measured`);
  const picker = createCodePicker(users);
  const sent = () => Object.values(picker.counts()).reduce((a, b) => a + b, 0);
  const transactions = await countTransactions();
  await verifyLoad(base, apiKey, picker, warmupS);
  const beforeMeasure = picker.counts();
  const stop = startWindow();
  const measured = await verifyLoad(base, apiKey, picker, durationS);
  const observed = stop();
  const after = picker.counts();
  const codes = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - beforeMeasure[k]]));
  // Warm-up and measured run together: the statistics cannot be cut between them.
  const postgres = { ...(await transactions()), requests: sent() };
  return { ...measured, ...observed, quiet, pilotRps: pilot.rps, coverage, codesSent: codes, postgres };
};
