/**
 * The README's configuration table and the decoder, held together: every variable the service
 * reads is documented, nothing documented is not read, and every bounded integer's range is the
 * one the README states (as `min..max`).
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { configVariables, ConfigError, loadConfig } from '../../../src/infrastructure/config/config.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
/** Each table row's variables (its first cell, split at commas and "or") and the whole row. */
const rows = section
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| variable') && !line.startsWith('|---'))
  .map((line) => ({ names: (line.split('|')[1] ?? '').split(/,| or /).map((name) => name.trim()).filter((name) => /^[A-Z][A-Z0-9_]+$/.test(name)), line }));
const documented = rows.flatMap((row) => row.names);

/** The range the decoder states when a variable is given a number far out of any range, if it is a bounded integer. */
const rangeOf = (name: string): [number, number] | undefined => {
  const loaded = loadConfig({ [name]: '99999999999999' }, 'none');
  const problems = loaded._tag === 'Left' && loaded.left instanceof ConfigError ? loaded.left.problems : [];
  const stated = problems.map((problem) => new RegExp(`^${name} must be an integer from (\\d+) to (\\d+)`).exec(problem)).find((match) => match !== null);
  return stated ? [Number(stated[1]), Number(stated[2])] : undefined;
};

describe("README's configuration table", () => {
  it('documents every variable the service reads, and no other', () => {
    const otel = (name: string) => name.startsWith('OTEL_');
    expect([...configVariables].sort()).toEqual([...new Set(documented.filter((name) => !otel(name)))].sort());
  });

  it.each(configVariables.flatMap((name) => {
    const range = rangeOf(name);
    return range ? [[name, range] as const] : [];
  }))('states the range of %s as the decoder checks it', (name, [min, max]) => {
    const row = rows.find((candidate) => candidate.names.includes(name));
    // A row of several variables names each one's range after it: `NAME min..max`.
    const named = row !== undefined && row.names.length > 1 ? `${name} ` : '';
    expect(row?.line.replaceAll(',', '')).toMatch(new RegExp(`(?<![\\d.])${named}${min}\\.\\.${max}(?![\\d])`));
  });

  it('finds bounded integers to check (the probe works)', () => {
    expect(rangeOf('PORT')).toEqual([1, 65535]);
    expect(rangeOf('HOST')).toBeUndefined();
  });
});
