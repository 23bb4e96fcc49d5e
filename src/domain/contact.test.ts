import { describe, expect, it } from 'vitest';
import { isValidEmail, normalizeEmail, normalizePhoneNumber } from './contact.js';

describe('contact normalization', () => {
  it('normalizes Australian numbers in any notation to E.164', () => {
    for (const input of ['0411 222 333', '+61 411 222 333', '+61411222333', '0411-222-333', '(04) 1122 2333']) {
      expect(normalizePhoneNumber(input, 'AU'), input).toBe('+61411222333');
    }
    expect(normalizePhoneNumber('+1 202 555 0123', 'AU')).toBe('+12025550123');
    expect(normalizePhoneNumber('202 555 0123', 'US')).toBe('+12025550123');
    for (const bad of ['123', 'hello', '', '+61 4', '0'.repeat(40)])
      expect(normalizePhoneNumber(bad, 'AU'), bad).toBeUndefined();
  });

  it('validates and normalizes emails', () => {
    expect(isValidEmail('john@example.com')).toBe(true);
    expect(isValidEmail('john.smith+tag@sub.example.com.au')).toBe(true);
    for (const bad of [
      'john',
      'john@',
      '@example.com',
      'jo hn@example.com',
      'john@example',
      'a..b@example.com',
      `${'a'.repeat(250)}@ex.com`,
    ]) {
      expect(isValidEmail(bad), bad).toBe(false);
    }
    expect(normalizeEmail(' John@Example.COM ')).toBe('john@example.com');
  });

  it.each([
    'a@-b.com',
    'a@b-.com',
    'a@b.c\u0000',
    'a@b.c',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(64)}.com`,
    'a@127.0.0.1',
    'Ada <ada@example.com>',
    'a@example.com.',
    'a@exa_mple.com',
  ])('refuses the email %j (RFC 5321 lengths, host name labels)', (bad) => {
    expect(isValidEmail(bad)).toBe(false);
  });

  it.each([
    '+61411222333x',
    'tel:+61411222333;ext=12',
    '+61411222333;ext=12',
    '+61 411 222 333 ext. 12',
    '+61411222333#12',
    '+61411222333*',
    '+61411222333\u0000',
    '+61 411 222 33a',
  ])('refuses the phone number %j instead of dropping part of it', (bad) => {
    expect(normalizePhoneNumber(bad, 'AU')).toBeUndefined();
  });

  it('reads full-width digits as digits', () => {
    expect(normalizePhoneNumber('+6141122233３', 'AU')).toBe('+61411222333');
    expect(normalizePhoneNumber('０４１１　２２２ ３３３'.replace('　', ' '), 'AU')).toBe('+61411222333');
  });
});
