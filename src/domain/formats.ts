import { isValidEmail } from './contact.js';
import { isCalendarDate, parseTimestamp } from './time.js';

/**
 * The string formats the contract uses, checked by the domain's own rules, for every validator of contract schemas
 * (Fastify's Ajv, the import's TypeBox compiler), so a value a format admits is one the domain stores.
 */
export const CONTRACT_FORMATS: Readonly<Record<'email' | 'date' | 'date-time', (value: string) => boolean>> = {
  // Surrounding spaces are trimmed before storing, as they always were.
  email: (value) => isValidEmail(value.trim()),
  date: isCalendarDate,
  'date-time': (value) => parseTimestamp(value) !== undefined,
};

/** What a validation error says of a value its format refuses, in the domain's words. */
export const FORMAT_MESSAGES: Readonly<Record<string, string>> = {
  email: 'must be a valid email address',
  date: 'must be a date in YYYY-MM-DD format',
  'date-time': 'must be an RFC 3339 timestamp such as 2021-10-20T14:51:16Z',
};
