import { AsyncLocalStorage } from 'node:async_hooks';

export type RequestContext = { requestId: string; ip: string };

/** Carries the request id to logs and audit events without threading it through every call. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export const currentRequestId = (): string | null => requestContext.getStore()?.requestId ?? null;
