import { makeAuthenticateOperator } from './accounts/authenticate-operator.js';
import { makeGetAccount } from './accounts/get-account.js';
import { makeChangePassword } from './accounts/change-password.js';
import { makeLogIn } from './accounts/log-in.js';
import { makeLogOut } from './accounts/log-out.js';
import { makeRegisterAccount } from './accounts/register-account.js';
import { makeAuthenticateApiKey } from './apps/authenticate-api-key.js';
import { makeCreateApp } from './apps/create-app.js';
import { makeDeleteApp } from './apps/delete-app.js';
import { makeGetOwnedApp } from './apps/get-app.js';
import { makeListApps } from './apps/list-apps.js';
import { makeResolveApp } from './apps/resolve-app.js';
import { makeRotateApiKey } from './apps/rotate-api-key.js';
import { makeUpdateApp } from './apps/update-app.js';
import { makeCancelChallenge } from './challenges/cancel-challenge.js';
import { makeDeliverChallenge } from './challenges/deliver-challenge.js';
import { makeExpireChallenges, makeListDueDeliveries } from './challenges/expire-challenges.js';
import { makeGenerateCode } from './challenges/generate-code.js';
import { makeGetChallenge } from './challenges/get-challenge.js';
import { makeRecordDeliveryConfirmation } from './challenges/record-delivery-confirmation.js';
import { makeRecordDeliveryReport } from './challenges/record-delivery-report.js';
import { makeSendCode } from './challenges/send-code.js';
import { makeVerifyChallenge } from './challenges/verify-challenge.js';
import { makeVerifyFactor } from './challenges/verify-factor.js';
import type { Deps } from './deps.js';
import { makeDisableEnrollment } from './enrollments/disable-enrollment.js';
import { makeEnableEnrollment } from './enrollments/enable-enrollment.js';
import { makeGetOtpStatus } from './enrollments/get-otp-status.js';
import { makeGetUserHistory } from './audit/get-user-history.js';
import { makeGetAppHistory } from './audit/get-app-history.js';
import { makeGetAccountHistory } from './audit/get-account-history.js';
import { makeRegenerateRecoveryCodes } from './enrollments/regenerate-recovery-codes.js';
import { makeRegisterEnrollment } from './enrollments/register-enrollment.js';

/** Every use case, wired to one set of ports. Driving adapters (HTTP, CLI) call only these. */
export const makeHandlers = (deps: Deps) => ({
  registerAccount: makeRegisterAccount(deps),
  logIn: makeLogIn(deps),
  logOut: makeLogOut(deps),
  changePassword: makeChangePassword(deps),
  getAccount: makeGetAccount(deps),
  getAccountHistory: makeGetAccountHistory(deps),
  authenticateOperator: makeAuthenticateOperator(deps),
  createApp: makeCreateApp(deps),
  listApps: makeListApps(deps),
  getOwnedApp: makeGetOwnedApp(deps),
  getAppHistory: makeGetAppHistory(deps),
  updateApp: makeUpdateApp(deps),
  deleteApp: makeDeleteApp(deps),
  rotateApiKey: makeRotateApiKey(deps),
  authenticateApiKey: makeAuthenticateApiKey(deps),
  resolveApp: makeResolveApp(deps),
  registerEnrollment: makeRegisterEnrollment(deps),
  enableEnrollment: makeEnableEnrollment(deps),
  disableEnrollment: makeDisableEnrollment(deps),
  getOtpStatus: makeGetOtpStatus(deps),
  getUserHistory: makeGetUserHistory(deps),
  regenerateRecoveryCodes: makeRegenerateRecoveryCodes(deps),
  sendCode: makeSendCode(deps),
  verifyChallenge: makeVerifyChallenge(deps, 'VERIFICATION'),
  verifyFactor: makeVerifyFactor(deps),
  getChallenge: makeGetChallenge(deps),
  cancelChallenge: makeCancelChallenge(deps, 'VERIFICATION'),
  generateCode: makeGenerateCode(deps),
  // Background work (delivery worker)
  deliverChallenge: makeDeliverChallenge(deps),
  listDueDeliveries: makeListDueDeliveries(deps),
  expireChallenges: makeExpireChallenges(deps),
  // Providers' status callbacks
  recordDeliveryReport: makeRecordDeliveryReport(deps),
  recordDeliveryConfirmation: makeRecordDeliveryConfirmation(deps),
});

export type Handlers = ReturnType<typeof makeHandlers>;
