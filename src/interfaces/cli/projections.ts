import pg from 'pg';
import { projections } from '../../application/projections/index.js';
import type { Config } from '../../infrastructure/config/config.js';
import { migrate } from '../../infrastructure/postgres/migrate.js';
import { readModelMigrations, rebuildProjections } from '../../infrastructure/postgres/read-models.js';

/**
 * `projections rebuild [name...]`: clears the named projections (all by default) and resets
 * their checkpoints to 0; the running workers replay them from the start of the log.
 * `projections list` names them.
 */
export const projectionsCommand = async (args: readonly string[], config: Config): Promise<number> => {
  const [action, ...names] = args;
  if (action === 'list') {
    for (const p of projections) process.stdout.write(`${p.name}\t${p.collections.join(',')}\n`);
    return 0;
  }
  const unknown = names.filter((name) => !projections.some((projection) => projection.name === name));
  if (action !== 'rebuild' || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`unknown projection ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${projections.map((p) => p.name).join(', ')}\n`);
    process.stderr.write('usage: projections list | projections rebuild [name...]\n');
    return 2;
  }
  if (!config.databaseUrl) {
    process.stdout.write('Embedded storage keeps read models in memory and rebuilds them from the log at every start: nothing to do.\n');
    return 0;
  }
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  try {
    await migrate(pool, readModelMigrations);
    const rebuilt = await rebuildProjections(pool, projections, names.length > 0 ? names : undefined);
    process.stdout.write(`reset to position 0: ${rebuilt.join(', ')}; workers replay them now\n`);
    return 0;
  } finally {
    await pool.end();
  }
};
