import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import validator from 'validator';

// validator.js checks RFC 5321 lengths (64-octet local part, 254 in all) and that the domain is a host name
// whose labels are letters, digits and inner hyphens, with a TLD: `a@-b.com` and `a@b.c` are refused.
const EMAIL_OPTIONS = {
  allow_display_name: false,
  require_tld: true,
  allow_ip_domain: false,
  allow_utf8_local_part: true,
  ignore_max_length: false,
  domain_specific_validation: false,
} as const;

export function isValidEmail(value: string): boolean {
  return value.length <= 254 && validator.isEmail(value, EMAIL_OPTIONS);
}

/** The form emails are compared by: trimmed and lower-cased. */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

// What people write in a phone number besides digits; anything else (letters, `;ext=`, `#`, `*`) is refused
// rather than dropped, so no part of a number is ever lost.
const PHONE_TEXT = /^\+?[0-9 ().\-\u00a0]+$/;

/**
 * E.164 form of a phone number, reading national numbers in `region`;
 * undefined when invalid. Full-width digits (０-９, from East Asian input
 * methods) count as digits; extensions and other characters make it invalid.
 */
export function normalizePhoneNumber(value: string, region: CountryCode): string | undefined {
  if (value.length > 32) return undefined;
  const text = value.trim().replace(/[\uff10-\uff19]/g, (digit) => String(digit.charCodeAt(0) - 0xff10));
  if (!PHONE_TEXT.test(text)) return undefined;
  const parsed = parsePhoneNumberFromString(text, region);
  if (!parsed || !parsed.isValid() || parsed.ext !== undefined) return undefined;
  return parsed.number;
}
