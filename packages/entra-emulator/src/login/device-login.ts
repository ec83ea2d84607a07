/**
 * The device login page (Entra's https://microsoft.com/devicelogin): the employee types the code the
 * device shows, then signs in as a test employee or declines. Its forms are bound to the browser and
 * to the step, as the sign-in page's are, so another site cannot approve a device for someone.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEVICE_LOGIN_PATH, normalUserCode } from '../device-authorization.js';
import type { DeviceAuthorization, TestEmployee } from '../model.js';
import { errors } from '../errors.js';
import type { Params } from '../params.js';
import { employeeFromForm, tenantRefusal } from './authorize-request.js';
import { FORM_TOKEN_FIELD } from './form-token.js';
import { refuseHead } from '../head.js';
import { deviceCodePage, deviceDonePage, deviceSignInPage } from './pages.js';
import { sendPage } from './responses.js';
import { rateLimited, readParams, sameOrigin, showError, type SignInFlow } from './flow.js';

const CODE_STEP = 'device-code';
const signInStep = (userCode: string) => `device-sign-in:${userCode}`;
const BAD_CODE = "That code didn't work. Check the code and try again.";

export function deviceLoginRoutes(app: FastifyInstance, flow: SignInFlow): void {
  const { directory, stores } = flow;
  const limited = rateLimited(flow);
  // Its own form tokens: their cookie's path is the page's.
  const tokens = flow.deviceFormTokens;

  const askForCode = (request: FastifyRequest, reply: FastifyReply, error?: string) =>
    sendPage(reply, error ? 400 : 200, deviceCodePage({ formToken: tokens.issue(request, reply, CODE_STEP), ...(error ? { error } : {}) }));

  const askToSignIn = (
    request: FastifyRequest,
    reply: FastifyReply,
    pending: DeviceAuthorization,
    employee: TestEmployee,
    error?: string,
  ) => {
    const client = directory.clients.get(pending.clientId);
    const formToken = tokens.issue(request, reply, signInStep(pending.userCode));
    const page = { userCode: pending.userCode, app: client?.target ?? pending.clientId, formToken, employee };
    return sendPage(reply, error ? 400 : 200, deviceSignInPage({ ...page, ...(error ? { error } : {}) }));
  };

  /** The pending authorization a typed code names, with its device code, if it is still waiting. */
  const pendingFor = (typed: string | undefined): { deviceCode: string; pending: DeviceAuthorization } | undefined => {
    const deviceCode = typed ? stores.userCodes.get(normalUserCode(typed)) : undefined;
    const found = deviceCode ? stores.deviceCodes.get(deviceCode) : undefined;
    return deviceCode && found?.status === 'pending' && found.expiresAt > Date.now() ? { deviceCode, pending: found } : undefined;
  };

  refuseHead(app, DEVICE_LOGIN_PATH, 'GET, POST');
  app.get(DEVICE_LOGIN_PATH, { onRequest: limited }, async (request, reply) => askForCode(request, reply));

  app.post(DEVICE_LOGIN_PATH, { onRequest: limited }, async (request, reply) => {
    const params = readParams(request.body, reply, directory.tenantId);
    if (!params) return reply;
    if (!sameOrigin(flow, request)) return showError(reply, errors.signInNotFromPage(), directory.tenantId);
    if (params.action === undefined) {
      if (!tokens.verify(request, CODE_STEP, params[FORM_TOKEN_FIELD]))
        return showError(reply, errors.signInNotFromPage(), directory.tenantId);
      const found = pendingFor(params.user_code);
      if (!found) return askForCode(request, reply, BAD_CODE);
      return askToSignIn(request, reply, found.pending, flow.signOn.current(request)?.employee ?? directory.employees[0]!);
    }
    return decide(request, reply, params);
  });

  const decide = (request: FastifyRequest, reply: FastifyReply, params: Params) => {
    const found = pendingFor(params.user_code);
    if (!found) return askForCode(request, reply, BAD_CODE);
    const { deviceCode, pending } = found;
    if (!tokens.verify(request, signInStep(pending.userCode), params[FORM_TOKEN_FIELD]))
      return showError(reply, errors.signInNotFromPage(), directory.tenantId);
    if (params.action !== 'approve') {
      pending.status = 'declined';
      stores.deviceCodes.changed(deviceCode);
      return sendPage(reply, 200, deviceDonePage(false));
    }
    const { employee, problem } = employeeFromForm(directory, params);
    if (problem) return askToSignIn(request, reply, pending, employee, problem);
    const client = directory.clients.get(pending.clientId);
    // Refused on the page, as Entra does, and the device keeps waiting: another account may still sign in.
    const refusal =
      tenantRefusal(directory, employee, pending.clientId) ??
      (client && !directory.signInAllowed(client, employee) ? errors.userNotAssigned(employee.email, client.clientId) : undefined);
    if (refusal) return askToSignIn(request, reply, pending, employee, `AADSTS${refusal.code}: ${refusal.detail}`);
    Object.assign(pending, { status: 'approved', employee, sessionId: randomUUID() });
    stores.deviceCodes.changed(deviceCode);
    return sendPage(reply, 200, deviceDonePage(true));
  };
}
