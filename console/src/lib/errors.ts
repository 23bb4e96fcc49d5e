import { CustomersApiError } from '../../../src/client/index.js';

/** What the console shows for a failure: a title, the API's message and instance (to quote to support), and advice. */
export interface ErrorView {
  title: string;
  message: string;
  instance?: string;
  status?: number;
  type?: string;
  hint?: string;
  details?: { field: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'The request was refused',
  401: 'Signed out',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  412: 'Changed by someone else',
  413: 'Too large',
  415: 'Unsupported file type',
  429: 'Too many requests',
  503: 'Service unavailable',
};

const HINTS: Record<string, string> = {
  unauthorized: 'Your token is unknown, revoked or expired. Sign in again.',
  forbidden: 'Your token does not have the scope this needs. Ask for a token with it, or sign in with another one.',
  not_found: 'It may have been deleted, or your token does not grant this organization.',
  precondition_failed: 'Someone changed this since you loaded it. Reload to see their change.',
  rate_limited: 'Wait a moment and try again.',
  unavailable: 'The server cannot reach its database right now; try again shortly.',
  network_error: 'The server did not answer. Check that it is running.',
  timeout: 'The server took too long to answer.',
};

export function describeError(error: unknown): ErrorView {
  if (error instanceof CustomersApiError) {
    const view: ErrorView = {
      title: TITLES[error.status] ?? (error.status === 0 ? 'No response' : `Error ${error.status}`),
      message: error.message,
      status: error.status,
      type: error.type,
    };
    if (error.instance) view.instance = error.instance;
    const hint = HINTS[error.type];
    if (hint) view.hint = hint;
    if (error.details?.length) view.details = error.details;
    return view;
  }
  if (error instanceof Error) return { title: 'Something went wrong', message: error.message };
  return { title: 'Something went wrong', message: String(error) };
}

export const isApiError = (error: unknown, type: string): error is CustomersApiError =>
  error instanceof CustomersApiError && error.type === type;
