import type { CountryCode } from 'libphonenumber-js/max';
import { badRequest, type ErrorDetail } from '../../errors.js';
import type { CreateCustomerBody, UpdateCustomerBody } from '../../contract/customers.js';
import type { CustomerRowPatch } from '../../store/repositories/customer-repository.js';
import { isValidEmail, normalizeEmail, normalizePhoneNumber } from '../contact.js';
import { isCalendarDate, parseTimestamp } from '../time.js';

export const GENDERS = ['MALE', 'FEMALE', 'OTHER'] as const;

/** Validated, normalized customer fields as stored. */
export type CustomerFields = Pick<
  CustomerRowPatch,
  | 'first_name'
  | 'last_name'
  | 'email'
  | 'email_normalized'
  | 'phone_number'
  | 'dob'
  | 'gender'
  | 'has_agreed_to_marketing'
>;

class FieldErrors {
  readonly details: ErrorDetail[] = [];
  add(field: string, message: string) {
    this.details.push({ field, message });
  }
  throwIfAny() {
    if (this.details.length > 0) {
      throw badRequest(`Invalid ${this.details.map((d) => d.field).join(', ')}`, this.details);
    }
  }
}

function normalizeFields(input: UpdateCustomerBody, region: CountryCode, errors: FieldErrors): CustomerFields {
  const fields: CustomerFields = {};
  for (const key of ['firstName', 'lastName'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    const trimmed = value.trim();
    if (trimmed === '') errors.add(key, 'must not be blank');
    fields[key === 'firstName' ? 'first_name' : 'last_name'] = trimmed;
  }
  if (input.email !== undefined) {
    if (input.email === null) {
      fields.email = null;
      fields.email_normalized = null;
    } else if (!isValidEmail(input.email.trim())) {
      errors.add('email', 'must be a valid email address');
    } else {
      fields.email = input.email.trim();
      fields.email_normalized = normalizeEmail(input.email);
    }
  }
  if (input.phoneNumber !== undefined) {
    if (input.phoneNumber === null) fields.phone_number = null;
    else {
      const e164 = normalizePhoneNumber(input.phoneNumber, region);
      if (e164 === undefined) errors.add('phoneNumber', 'must be a valid phone number');
      else fields.phone_number = e164;
    }
  }
  if (input.dob !== undefined) {
    if (input.dob === null) fields.dob = null;
    else if (!isCalendarDate(input.dob)) errors.add('dob', 'must be a date in YYYY-MM-DD format');
    else if (input.dob > new Date().toISOString().slice(0, 10)) errors.add('dob', 'must not be in the future');
    else fields.dob = input.dob;
  }
  if (input.gender !== undefined) {
    if (input.gender === null) fields.gender = null;
    else if (!(GENDERS as readonly string[]).includes(input.gender))
      errors.add('gender', `must be one of ${GENDERS.join(', ')}`);
    else fields.gender = input.gender;
  }
  if (input.hasAgreedToMarketing !== undefined) {
    fields.has_agreed_to_marketing = input.hasAgreedToMarketing === null ? null : input.hasAgreedToMarketing ? 1 : 0;
  }
  return fields;
}

export function parseCreateCustomer(
  input: CreateCustomerBody,
  region: CountryCode,
): { fields: CustomerFields & { first_name: string; last_name: string }; createdAt: number | undefined } {
  const errors = new FieldErrors();
  const fields = normalizeFields(input, region, errors);
  let createdAt: number | undefined;
  if (input.createdAt !== undefined) {
    createdAt = parseTimestamp(input.createdAt);
    if (createdAt === undefined) errors.add('createdAt', 'must be an RFC 3339 timestamp such as 2021-10-20T14:51:16Z');
    else if (createdAt > Date.now() + 60_000) errors.add('createdAt', 'must not be in the future');
    else if (createdAt < 0) errors.add('createdAt', 'must not be before 1970');
  }
  errors.throwIfAny();
  return { fields: fields as CustomerFields & { first_name: string; last_name: string }, createdAt };
}

export function parseUpdateCustomer(input: UpdateCustomerBody, region: CountryCode): CustomerFields {
  const errors = new FieldErrors();
  const fields = normalizeFields(input, region, errors);
  errors.throwIfAny();
  return fields;
}

export type SearchFilter = { kind: 'none'; value: '' } | { kind: 'email' | 'phone'; value: string };

export function parseSearch(
  email: string | undefined,
  phoneNumber: string | undefined,
  region: CountryCode,
): SearchFilter {
  if (email !== undefined && phoneNumber !== undefined) {
    throw badRequest('Search by email or by phoneNumber, not both', [
      { field: 'phoneNumber', message: 'cannot be combined with email' },
    ]);
  }
  if (email !== undefined) {
    if (!isValidEmail(email.trim()))
      throw badRequest('email must be a valid email address', [
        { field: 'email', message: 'must be a valid email address' },
      ]);
    return { kind: 'email', value: normalizeEmail(email) };
  }
  if (phoneNumber !== undefined) {
    const e164 = normalizePhoneNumber(phoneNumber, region);
    if (e164 === undefined) {
      throw badRequest('phoneNumber must be a valid phone number', [
        { field: 'phoneNumber', message: 'must be a valid phone number' },
      ]);
    }
    return { kind: 'phone', value: e164 };
  }
  return { kind: 'none', value: '' };
}
