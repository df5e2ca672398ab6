import { ref } from './schema-kit.js';

const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
const json = (schema: string) => ({ 'application/json': { schema: ref(schema) } });

const health = (summary: string, schema: string, canFail: boolean) => ({
  get: {
    tags: ['health'],
    summary,
    security: [],
    responses: {
      '200': { description: 'Healthy', headers: requestIdHeader, content: json(schema) },
      ...(canFail ? { '503': { description: 'A dependency is down', headers: requestIdHeader, content: json(schema) } } : {}),
    },
  },
});

export const metaPaths = {
  '/health': health('Health of the service and each dependency, with latency', 'Health', true),
  '/health/live': health('Liveness: the process answers', 'Liveness', false),
  '/health/ready': health('Readiness: started, and every dependency the service cannot answer without answers (a Redis outage degrades /health only)', 'Health', true),
  '/openapi.json': {
    get: {
      tags: ['docs'],
      summary: 'This document',
      security: [],
      responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  },
  '/docs': {
    get: {
      tags: ['docs'],
      summary: 'Browsable API documentation (served locally)',
      security: [],
      responses: { '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
};
