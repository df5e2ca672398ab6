// The summary table, the target check and the details printed after them.
export const TARGETS = { totpRps: 4000, totpP99Ms: 50, rssMb: 150 };

/** The `q` quantile (0..1) of `values` by nearest rank below, for the scripts that time requests one by one. */
export const quantile = (values, q) => values.slice().sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];

const pad = (value, width, left = false) => (left ? String(value).padEnd(width) : String(value).padStart(width));
const ms = (v) => (v === undefined ? '-' : Number(v).toFixed(v < 10 ? 2 : 1));

export const rowsOf = ({ baseline, floor, totp, sendVerify }) => {
  const ratio = (rps) => (baseline?.rps && rps !== undefined ? `${(rps / baseline.rps).toFixed(3)}x` : '');
  const row = (scenario, r, extra = {}) => ({ scenario, rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, peakRssMb: r.peakRssMb, vsBaseline: ratio(r.rps), ...extra });
  const rows = [];
  if (baseline) rows.push(row('bare Koa route (baseline)', baseline));
  if (floor) {
    const { atTargetRate: at } = floor;
    rows.push(row(`floor held at ${at.targetRate}/s`, at), row('floor: claim + append only', floor));
  }
  if (totp) rows.push(row('TOTP verification', totp));
  if (sendVerify) {
    const { send, delivery, verify, pair, elapsedS } = sendVerify;
    const perS = (h) => Math.round(h.count / elapsedS);
    rows.push(
      row('send+verify: all HTTP calls', { rps: sendVerify.rps, peakRssMb: sendVerify.peakRssMb }),
      row('  POST /api/code/send', { ...send, rps: perS(send) }),
      row('  wait for the code', { ...delivery, rps: undefined }),
      row('  POST /api/code/verify', { ...verify, rps: perS(verify) }),
      row('  pair, end to end', { ...pair, rps: sendVerify.pairsPerS }, { vsBaseline: '' }),
    );
  }
  return rows;
};

export const formatTable = (rows) => {
  const header = `${pad('scenario (50 connections)', 30, true)}${pad('req/s', 8)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('peak RSS MB', 13)}${pad('vs baseline', 13)}`;
  const lines = rows.map(
    (r) => `${pad(r.scenario, 30, true)}${pad(r.rps ?? '-', 8)}${pad(ms(r.p50Ms), 9)}${pad(ms(r.p99Ms), 9)}${pad(r.peakRssMb ?? '', 13)}${pad(r.vsBaseline, 13)}`,
  );
  return [header, '-'.repeat(header.length), ...lines].join('\n');
};

export const checkTargets = ({ totp, sendVerify, serviceIdleRssMb }) => {
  const checks = [];
  if (totp) {
    checks.push({ target: `TOTP verification >= ${TARGETS.totpRps} req/s`, actual: totp.rps, met: totp.rps >= TARGETS.totpRps });
    checks.push({ target: `TOTP verification p99 <= ${TARGETS.totpP99Ms} ms`, actual: totp.p99Ms, met: totp.p99Ms <= TARGETS.totpP99Ms });
  }
  const rss = Math.max(totp?.peakRssMb ?? 0, sendVerify?.peakRssMb ?? 0);
  if (rss > 0) checks.push({ target: `service peak RSS <= ${TARGETS.rssMb} MB under load`, actual: rss, met: rss <= TARGETS.rssMb });
  if (serviceIdleRssMb !== undefined) checks.push({ target: `service RSS <= ${TARGETS.rssMb} MB idle after start`, actual: serviceIdleRssMb, met: serviceIdleRssMb <= TARGETS.rssMb });
  return checks;
};

export const formatChecks = (checks) => checks.map((c) => `${c.met ? 'MET   ' : 'MISSED'}  ${c.target}: ${c.actual}`).join('\n');

/** CPU milliseconds per unit of work: the service's and its PostgreSQL backends'. */
const cpuPer = (unit, { cores }, seconds, count) =>
  `CPU per ${unit} ≈ ${((cores.server * seconds * 1000) / count).toFixed(2)} ms in the server process, ${((cores.postgres * seconds * 1000) / count).toFixed(2)} ms in PostgreSQL`;

export const formatDetails = (results) => {
  const out = [];
  const cpu = (name, r) => r?.cores && out.push(`${name}: CPU in cores of ${results.machine.cpus}: ${Object.entries(r.cores).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (results.baseline) cpu('baseline', results.baseline);
  const f = results.floor;
  if (f) {
    out.push(`floor: statuses ${JSON.stringify(f.statusCodes)}, socket errors ${f.errors}, timeouts ${f.timeouts}; ${cpuPer('request', f, f.durationS, f.requests)}`);
    const failed = [f, f.atTargetRate].some((r) => Object.keys(r.statusCodes).some((code) => code !== '200') || r.errors > 0 || r.timeouts > 0);
    if (failed) out.push('floor: WARNING some requests failed (above): its req/s counts them and is not a floor to compare with');
    out.push(`floor: PostgreSQL transactions per request ≈ ${(f.postgres.xacts / f.postgres.requests).toFixed(2)} (both runs with their warm-ups)`);
    cpu(`floor held at ${f.atTargetRate.targetRate}/s`, f.atTargetRate);
    cpu('floor', f);
  }
  const t = results.totp;
  if (t && f?.rps) out.push(`TOTP verification: ${(t.rps / f.rps).toFixed(3)} of the floor's req/s`);
  if (t) {
    out.push(`TOTP: ${t.coverage.users} users enrolled (the pilot's ${t.pilotRps} req/s asked for ${t.coverage.neededForRun}${t.coverage.capped ? ', capped by BENCH_TOTP_MAX_USERS' : ''}); codes sent while measured: ${JSON.stringify(t.codesSent)}`);
    out.push(`TOTP: statuses ${JSON.stringify(t.statusCodes)}, non-200 by error code ${JSON.stringify(t.errorCodes)}, socket errors ${t.errors}, timeouts ${t.timeouts}`);
    if (t.codesSent.exhausted > 0) out.push(`TOTP: WARNING ${t.codesSent.exhausted} requests replayed a used code (401 expected): raise BENCH_TOTP_USERS or BENCH_TOTP_MAX_USERS`);
    out.push(`TOTP: ${cpuPer('request', t, t.durationS, t.requests)}`);
    out.push(`TOTP: PostgreSQL transactions per request ≈ ${(t.postgres.xacts / t.postgres.requests).toFixed(1)} (warm-up and measured run)`);
    cpu('TOTP', t);
  }
  const s = results.sendVerify;
  if (s) {
    out.push(`send→verify: ${s.pairs} verified pairs (${s.pairsPerS}/s); send statuses ${JSON.stringify(s.sendStatus)}, verify statuses ${JSON.stringify(s.verifyStatus)}, delivery timeouts ${s.deliveryTimeouts}, errors ${s.errors}`);
    if (s.pairs > 0) out.push(`send→verify: ${cpuPer('pair', s, s.elapsedS, s.pairs)}`);
    out.push(`send→verify: PostgreSQL transactions per pair ≈ ${(s.postgres.xacts / Math.max(1, s.postgres.pairs)).toFixed(1)} (warm-up and measured run)`);
    cpu('send→verify', s);
  }
  if (results.serviceIdleRssMb !== undefined) out.push(`service RSS: ${results.serviceIdleRssMb} MB idle after start, ${results.servicePeakRssMb} MB at most over its whole life (enrollment included)`);
  return out.join('\n');
};
