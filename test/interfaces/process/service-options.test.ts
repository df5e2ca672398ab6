import { describe, expect, it } from '@jest/globals';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from '../../../src/infrastructure/config/config.js';
import { createLogger } from '../../../src/infrastructure/logging/logger.js';
import { serviceOptions } from '../../../src/interfaces/process/service-options.js';
import { newKeys } from '../../support/test-server.js';

const optionsOf = (env: NodeJS.ProcessEnv) => {
  const config = loadConfig(env);
  if (E.isLeft(config)) throw config.left;
  return serviceOptions(config.right, createLogger({ level: 'silent' }), newKeys(), undefined);
};

describe('service options from the configuration', () => {
  it('hands the hasher the argon2 cost: the default, or ARGON2_MEMORY_KIB and ARGON2_TIME_COST', () => {
    expect(optionsOf({}).argon2).toEqual({ memoryCostKiB: 19456, timeCost: 2 });
    expect(optionsOf({ ARGON2_MEMORY_KIB: '65536', ARGON2_TIME_COST: '3' }).argon2).toEqual({ memoryCostKiB: 65536, timeCost: 3 });
  });
});
