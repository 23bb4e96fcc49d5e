import type { CustomerProfileColumn, CustomerStatisticColumn } from '../contract/customer-fields.js';
import { GENDERS } from '../contract/customer-fields.js';
import type { CustomerRow } from '../store/repositories/customer-repository.js';

/**
 * Realistic names and a seeded generator, shared by the demo data and the benchmark datasets so both look
 * like a real customer base and come out the same on every run.
 */
export const FIRST_NAMES = [
  'Olivia',
  'Noah',
  'Charlotte',
  'Oliver',
  'Amelia',
  'Jack',
  'Isla',
  'William',
  'Mia',
  'Leo',
  'Ava',
  'Henry',
  'Grace',
  'Lucas',
  'Chloe',
  'Thomas',
  'Zoe',
  'James',
  'Ella',
  'Ethan',
  'Ruby',
  'Harrison',
  'Sophie',
  'Lachlan',
  'Matilda',
  'Hamish',
  'Isabella',
  'Cooper',
  'Harper',
  'Archie',
  'Evie',
  'Mason',
  'Sienna',
  'Xavier',
  'Willow',
  'Liam',
  'Aria',
  'Hudson',
  'Ivy',
  'Samuel',
  'Priya',
  'Wei',
  'Aisha',
  'Mohammed',
  'Yuki',
  'Minh',
  'Sofia',
  'Mateo',
  'Ngaio',
  'Tane',
];
export const LAST_NAMES = [
  'Smith',
  'Jones',
  'Williams',
  'Brown',
  'Wilson',
  'Taylor',
  'Johnson',
  'White',
  'Martin',
  'Anderson',
  'Thompson',
  'Nguyen',
  'Thomas',
  'Walker',
  'Harris',
  'Lee',
  'Ryan',
  'Robinson',
  'Kelly',
  'King',
  'Davis',
  'Wright',
  'Evans',
  'Roberts',
  'Green',
  'Hall',
  'Wood',
  'Jackson',
  'Clarke',
  'Patel',
  'Khan',
  'Chen',
  'Wang',
  'Singh',
  'Tran',
  "O'Brien",
  'Murphy',
  'Campbell',
  'Stewart',
  'Mitchell',
  'Papadopoulos',
  'Rossi',
  'Kowalski',
  'Le',
  'Kim',
];
export const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example.com', 'inbox.example.net'];

/** mulberry32: a small deterministic generator. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Random = ReturnType<typeof createRandom>;

/**
 * The profile columns the generators make alike, and every statistic: typed from the field table, so a new
 * profile field or statistic does not compile until both generators fill it.
 */
type GeneratedColumns = Pick<
  CustomerRow,
  | Exclude<CustomerProfileColumn, 'first_name' | 'last_name' | 'email' | 'email_normalized' | 'phone_number'>
  | CustomerStatisticColumn
>;

/**
 * The columns both generators make alike: date of birth, gender, marketing consent and statistics consistent with
 * a customer created at `createdAt` and last updated at `updatedAt`.
 */
export function randomProfileAndStatistics(random: Random, createdAt: number, updatedAt: number): GeneratedColumns {
  const earned = random.chance(0.8) ? random.int(0, 8000) : 0;
  const redeemed = earned > 0 && random.chance(0.5) ? random.int(0, earned) : 0;
  const spend = random.chance(0.85) ? random.int(450, 250_000) : 0;
  const between = (from: number) => from + Math.floor(random.next() * (updatedAt - from));
  return {
    dob: random.chance(0.6)
      ? `${random.int(1950, 2006)}-${String(random.int(1, 12)).padStart(2, '0')}-${String(random.int(1, 28)).padStart(2, '0')}`
      : null,
    gender: random.chance(0.7) ? random.pick(GENDERS) : null,
    has_agreed_to_marketing: random.chance(0.8) ? (random.chance(0.6) ? 1 : 0) : null,
    points_balance: earned - redeemed,
    total_points_earned: earned,
    total_points_redeemed: redeemed,
    total_spend: spend,
    last_points_earned_at: earned > 0 ? between(createdAt) : null,
    last_points_redeemed_at: redeemed > 0 ? between(createdAt) : null,
    last_spent_at: spend > 0 ? between(createdAt) : null,
    metadata: null,
  };
}
