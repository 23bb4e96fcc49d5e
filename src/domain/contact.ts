import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

// Deliberately simple: one @, a dot in the domain, no spaces. RFC 5321 caps the length at 254.
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@[^\s@"(),:;<>[\\\]]+\.[^\s@"(),:;<>[\\\].]{2,}$/;

export function isValidEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value) && !value.includes('..');
}

/** The form emails are compared by: trimmed and lower-cased. */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** E.164 form of a phone number, reading national numbers in `region`; undefined when invalid. */
export function normalizePhoneNumber(value: string, region: CountryCode): string | undefined {
  if (value.length > 32) return undefined;
  const parsed = parsePhoneNumberFromString(value, region);
  if (!parsed || !parsed.isValid()) return undefined;
  return parsed.number;
}
