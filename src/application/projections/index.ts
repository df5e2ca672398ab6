import type { Projection } from '../read-models.js';
import { accountsProjection } from './accounts.js';
import { appsProjection } from './apps.js';
import { challengesProjection } from './challenges.js';
import { deliveriesProjection } from './deliveries.js';
import { userChallengesProjection } from './user-challenges.js';

export const projections: readonly Projection[] = [accountsProjection, appsProjection, challengesProjection, deliveriesProjection, userChallengesProjection];
