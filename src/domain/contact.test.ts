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
});
