import { describe, expect, it } from 'vitest';
import { createRandom } from '../src/demo/random-people.js';
import { customerRowToJson } from '../src/domain/customers/customer-json.js';
import { customerRowToCustomer } from '../src/domain/customers/customer-mapper.js';
import type { CustomerRow } from '../src/store/repositories/customer-repository.js';
import { serializeCustomer } from './helpers/customer-serializer.js';

// The reference is what the routes answer with: the API object serialized with the Customer schema.
const reference = (row: CustomerRow) => serializeCustomer(customerRowToCustomer(row));

const TEXTS = [
  '',
  'a',
  'Zoë "Quote" \\ Back',
  'Ōkawa 太郎 😀',
  'tab\there',
  'line\nbreak\r\n',
  '\u0000\u0001\u001f\u007f',
  '\u2028sep\u2029',
  '</script><b>&amp;',
  'lone \ud800 high',
  'lone \udc00 low',
  '"',
  '\\',
  'x'.repeat(41),
  'y'.repeat(42) + '"',
  'z'.repeat(6000),
];
const INSTANTS = [0, -1, 999, 1_700_000_000_123, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001];

function baseRow(): CustomerRow {
  return {
    organization_id: 'org',
    id: 'cus_1',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: null,
    email_normalized: null,
    phone_number: null,
    dob: null,
    gender: null,
    has_agreed_to_marketing: null,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_001,
    points_balance: 0,
    total_points_earned: 0,
    total_points_redeemed: 0,
    total_spend: 0,
    last_points_earned_at: null,
    last_points_redeemed_at: null,
    last_spent_at: null,
    metadata: null,
  };
}

describe('customerRowToJson', () => {
  it('gives the schema serializer bytes for a customer with every optional value absent, and every present', () => {
    const bare = baseRow();
    expect(customerRowToJson(bare)).toBe(reference(bare));
    const full: CustomerRow = {
      ...bare,
      email: 'ada@example.com',
      email_normalized: 'ada@example.com',
      phone_number: '+61411222333',
      dob: '1815-12-10',
      gender: 'FEMALE',
      has_agreed_to_marketing: 1,
      points_balance: -42,
      total_points_earned: 9_007_199_254_740_991,
      total_points_redeemed: 3,
      total_spend: 123_456,
      last_points_earned_at: 1_700_000_000_123,
      last_points_redeemed_at: 0,
      last_spent_at: -1,
      metadata: '{"b":"2","a":"1"}',
    };
    expect(customerRowToJson(full)).toBe(reference(full));
    expect(customerRowToJson({ ...full, has_agreed_to_marketing: 0 })).toBe(
      reference({ ...full, has_agreed_to_marketing: 0 }),
    );
    expect(JSON.parse(customerRowToJson(full))).toEqual(customerRowToCustomer(full));
  });

  it('writes metadata keys as the serializer does: integer-like keys first, keys its pattern refuses left out', () => {
    for (const metadata of [
      '{}',
      '{"10":"x","9":"y","b":"1"}',
      '{"a\\nb":"dropped?","k":"v"}',
      '{"q\\"uote":"\\u0000\\ud800","😀":"太郎"}',
    ]) {
      const row = { ...baseRow(), metadata };
      expect(customerRowToJson(row)).toBe(reference(row));
    }
  });

  it('gives the schema serializer bytes for 5,000 random customers of awkward text and instants', () => {
    const { next: random, pick } = createRandom(16);
    const maybe = <T>(value: T) => (random() < 0.3 ? null : value);
    const instant = () => (random() < 0.5 ? pick(INSTANTS) : Math.floor((random() - 0.3) * 4e12));
    const text = () => {
      let s = '';
      for (let i = Math.floor(random() * 3); i >= 0; i--) s += pick(TEXTS);
      return s;
    };
    for (let i = 0; i < 5_000; i++) {
      const row: CustomerRow = {
        organization_id: 'org',
        id: text() || `cus_${i}`,
        first_name: text(),
        last_name: text(),
        email: maybe(text()),
        email_normalized: null,
        phone_number: maybe(text()),
        dob: maybe(text()),
        gender: maybe(pick(['MALE', 'FEMALE', 'OTHER'])),
        has_agreed_to_marketing: maybe(pick([0, 1])),
        created_at: instant(),
        updated_at: instant(),
        points_balance: Math.floor((random() - 0.5) * 1e12),
        total_points_earned: Math.floor(random() * 1e15),
        total_points_redeemed: Math.floor(random() * 1000),
        total_spend: Math.floor(random() * 1e9),
        last_points_earned_at: maybe(instant()),
        last_points_redeemed_at: maybe(instant()),
        last_spent_at: maybe(instant()),
        metadata: maybe(JSON.stringify({ [text()]: text(), [String(i % 13)]: text() })),
      };
      const json = customerRowToJson(row);
      if (json !== reference(row)) expect({ i, json }).toEqual({ i, json: reference(row) });
    }
  });
});
