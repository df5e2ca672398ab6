/**
 * Hot statements as named prepared statements: node-postgres parses each name once per
 * connection, and PostgreSQL then skips parsing and analysis on every later execution (and,
 * after a few runs, planning, when its generic plan is as good). Unnamed queries are parsed,
 * analysed and planned from scratch every time. Names must be unique per text.
 */
import type pg from 'pg';

export const prepared =
  (name: string, text: string) =>
  (values: unknown[]): pg.QueryConfig => ({ name: `otp-${name}`, text, values });
