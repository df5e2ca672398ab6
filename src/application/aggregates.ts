import { accountDecider } from '../domain/account/index.js';
import { challengeDecider } from '../domain/challenge/index.js';
import { clientAppDecider } from '../domain/client-app/index.js';
import { enrollmentDecider } from '../domain/enrollment/index.js';

export const ClientAppAggregate = { name: 'ClientApp', decider: clientAppDecider } as const;
export const AccountAggregate = { name: 'Account', decider: accountDecider } as const;
export const EnrollmentAggregate = { name: 'Enrollment', decider: enrollmentDecider } as const;
export const ChallengeAggregate = { name: 'Challenge', decider: challengeDecider } as const;
