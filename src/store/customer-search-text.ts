import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CustomerSearchTable } from './schema.js';

// What the search index holds for a customer, and how a query is put in the same form. Both sides go through
// `foldText`, so `jose` finds `José` and `SMI` finds `Smith` the same way on SQLite and PostgreSQL, whatever the
// database's own collation or Unicode support.

/** Case- and accent-free text: NFD, combining marks dropped, lower-cased, runs of white space as one space. */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** The digits of a text. */
export function digitsOf(text: string): string {
  return text.replace(/\D+/g, '');
}

/** A query that reads as (part of) a phone number: digits with the punctuation people write around them. */
export function isPhoneLike(text: string): boolean {
  return /^\+?[0-9 ().\-\u00a0]+$/.test(text.trim()) && digitsOf(text).length >= 2;
}

/**
 * The phone number as searched: its international digits and its national digits (`61411222333 0411222333`),
 * so a fragment written either way matches.
 */
export function phoneSearchText(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const national = parsed ? digitsOf(parsed.formatNational()) : '';
  const international = digitsOf(e164);
  return national !== '' && national !== international ? `${international} ${national}` : international;
}

export interface CustomerSearchSource {
  organization_id: string;
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone_number: string | null;
}

/** One row of `customer_search`: the folded name, surname, email and phone text of a customer. */
export type CustomerSearchRow = CustomerSearchTable;

export function customerSearchRow(customer: CustomerSearchSource): CustomerSearchRow {
  return {
    organization_id: customer.organization_id,
    customer_id: customer.id,
    full_name: foldText(`${customer.first_name} ${customer.last_name}`),
    last_name: foldText(customer.last_name),
    email: customer.email === null ? null : foldText(customer.email),
    phone: customer.phone_number === null ? null : phoneSearchText(customer.phone_number),
  };
}

/**
 * The terms of a customer for 2-character queries, which trigram indexes cannot serve: each word of the name, the
 * email, and the phone digits. A 2-character query finds the customers with a term starting with it.
 */
export function customerSearchTerms(row: CustomerSearchRow): string[] {
  const terms = new Set<string>();
  for (const word of row.full_name.split(' ')) {
    if (word !== '') terms.add(word);
    // Hyphenated and apostrophe names: `jean-luc` is also `jean` and `luc`, `o'brien` also `brien`.
    for (const part of word.split(/[-'’.]+/u)) if (part !== '') terms.add(part);
  }
  if (row.full_name !== '') terms.add(row.full_name);
  if (row.email !== null) terms.add(row.email);
  if (row.phone !== null) for (const digits of row.phone.split(' ')) terms.add(digits);
  return [...terms];
}

/** The shortest phone fragment the suffix index serves: shorter ones go to the term index (2 characters). */
export const MIN_SUFFIX_LENGTH = 3;

/**
 * The digit suffixes of a customer's searched phone digits (`customer_search.phone`, its forms separated by a space),
 * at least `MIN_SUFFIX_LENGTH` long and each once: the phone digits contain `N` exactly when a suffix starts with `N`,
 * so "contains" is a prefix range over a B-tree, as fast at a million customers as at a thousand. The national form
 * mostly repeats the international one's tail (`61411222333 0411222333`: only `0411222333` is new).
 */
export function phoneSuffixes(phone: string | null): string[] {
  if (phone === null) return [];
  const suffixes = new Set<string>();
  for (const form of phone.split(' ')) {
    for (let i = 0; i + MIN_SUFFIX_LENGTH <= form.length; i++) suffixes.add(form.slice(i));
  }
  return [...suffixes];
}

/** The smallest string greater than every string starting with `prefix`, in code point (binary) order. */
export function prefixUpperBound(prefix: string): string {
  const points = [...prefix];
  const last = points.pop()!;
  let next = last.codePointAt(0)! + 1;
  if (next === 0xd800) next = 0xe000;
  return points.join('') + String.fromCodePoint(next);
}
