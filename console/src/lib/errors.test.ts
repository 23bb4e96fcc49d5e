import { describe, expect, it } from 'vitest';
import { CustomersApiError } from '../../../src/client/index.js';
import { describeError } from './errors.js';

describe('error rendering (describeError)', () => {
  it("shows the API's message and instance, with advice for the code", () => {
    const error = new CustomersApiError({
      status: 403,
      type: 'forbidden',
      message: 'This token lacks the customers:write scope',
      instance: '01JEXAMPLE0000000000000000',
    });
    expect(describeError(error)).toEqual({
      title: 'Not allowed',
      message: 'This token lacks the customers:write scope',
      instance: '01JEXAMPLE0000000000000000',
      status: 403,
      type: 'forbidden',
      hint: expect.stringContaining('scope') as unknown,
    });
  });

  it('lists the fields of a validation error', () => {
    const view = describeError(
      new CustomersApiError({
        status: 400,
        type: 'bad_request',
        message: 'email: must be an email address',
        instance: '01JEXAMPLE0000000000000001',
        details: [{ field: 'email', message: 'must be an email address' }],
      }),
    );
    expect(view.title).toBe('The request was refused');
    expect(view.details).toEqual([{ field: 'email', message: 'must be an email address' }]);
    expect(view.hint).toBeUndefined();
  });

  it('explains a request that got no answer, and any other failure by its message', () => {
    const view = describeError(new CustomersApiError({ status: 0, type: 'network_error', message: 'GET x failed' }));
    expect(view).toMatchObject({ title: 'No response', message: 'GET x failed' });
    expect(view.instance).toBeUndefined();
    expect(view.hint).toMatch(/did not answer/);
    expect(describeError(new Error('Paste an API token first.'))).toEqual({
      title: 'Something went wrong',
      message: 'Paste an API token first.',
    });
  });
});
