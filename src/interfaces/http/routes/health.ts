import Router from '@koa/router';
import type { HealthReport } from '../../../application/health/check-health.js';

export type HealthProbes = {
  readonly checkHealth: () => Promise<HealthReport>;
  /** False while starting (read models replaying) or shutting down. */
  readonly isReady: () => boolean;
};

export const createHealthRouter = (probes: HealthProbes): Router => {
  const router = new Router();
  router.get('/health', async (ctx) => {
    const report = await probes.checkHealth();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = report.ok ? 200 : 503;
    ctx.body = report;
  });
  router.get('/health/live', (ctx) => {
    ctx.body = { ok: true };
  });
  // Ready while every dependency the service cannot answer without is up: a Redis outage
  // degrades /health (503) but keeps instances in rotation, since the service falls back.
  router.get('/health/ready', async (ctx) => {
    const report = await probes.checkHealth();
    const ready = probes.isReady() && report.ready;
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { ...report, ok: ready };
  });
  return router;
};
