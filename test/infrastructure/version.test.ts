/**
 * The release a build says it is: package.json's version, 0.<stop>.<fix>, with a section in
 * docs/UPGRADING.md for that stop, and the same in the OpenAPI document.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { serviceVersion } from '../../src/infrastructure/version.js';
import { openApiDocument } from '../../src/interfaces/http/openapi.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('the service version', () => {
  it("is package.json's, of the form 0.<stop>.<fix>", () => {
    expect(serviceVersion).toBe(packageJson.version);
    expect(serviceVersion).toMatch(/^0\.[1-9][0-9]*\.[0-9]+$/);
  });

  it('names a stop that docs/UPGRADING.md has notes for', () => {
    const stop = serviceVersion.split('.')[1];
    const upgrading = readFileSync(new URL('../../docs/UPGRADING.md', import.meta.url), 'utf8');
    expect(upgrading).toMatch(new RegExp(`^## Stop ${stop}$`, 'm'));
  });

  it("is the OpenAPI document's info.version", () => {
    expect(openApiDocument.info.version).toBe(serviceVersion);
  });
});
