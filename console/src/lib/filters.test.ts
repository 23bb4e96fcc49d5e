import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chipsOf,
  filtersFromParams,
  filtersToParams,
  searchOptions,
  segmentFilter,
  withoutChip,
  type CustomerFilters,
} from './filters.js';

describe('filter chips <-> query parameters', () => {
  it('reads every filter of the customers query from the URL', () => {
    const filters = filtersFromParams(
      new URLSearchParams(
        'q=ann&sort=updated&hasAgreedToMarketing=false&pointsBalanceMin=10&totalSpendMax=5000&createdAfter=2026-01-01T00:00:00Z&gender=FEMALE&listId=L1&metadata.tier=gold&metadata.city=Melb',
      ),
    );
    expect(filters).toEqual({
      q: 'ann',
      sort: 'updated',
      hasAgreedToMarketing: false,
      pointsBalanceMin: 10,
      totalSpendMax: 5000,
      createdAfter: '2026-01-01T00:00:00Z',
      gender: 'FEMALE',
      listId: 'L1',
      metadata: { tier: 'gold', city: 'Melb' },
    });
  });

  it('leaves out values the server would refuse, so a hand-edited URL cannot break the screen', () => {
    expect(
      filtersFromParams(
        new URLSearchParams('sort=name&hasAgreedToMarketing=yes&pointsBalanceMin=1.5&createdAfter=soon&gender=x&q=%20'),
      ),
    ).toEqual({});
  });

  it('writes the URL back in a stable order, the inverse of reading it', () => {
    const filters: CustomerFilters = {
      metadata: { b: '2', a: '1' },
      pointsBalanceMax: 0,
      hasAgreedToMarketing: true,
      q: 'jo smi',
    };
    expect(filtersToParams(filters).toString()).toBe(
      'q=jo+smi&hasAgreedToMarketing=true&pointsBalanceMax=0&metadata.a=1&metadata.b=2',
    );
    expect(filtersFromParams(filtersToParams(filters))).toEqual(filters);
  });

  it('round-trips any filters through the URL', () => {
    const text = fc.stringMatching(/^[\w.-][\w .@-]{0,10}[\w.-]$/);
    const filters = fc.record(
      {
        q: text,
        sort: fc.constantFrom('created' as const, 'updated' as const),
        hasAgreedToMarketing: fc.boolean(),
        pointsBalanceMin: fc.integer({ min: -1e6, max: 1e6 }),
        totalSpendMax: fc.integer({ min: 0, max: 1e9 }),
        updatedBefore: fc.constant('2026-03-04T05:06:07Z'),
        gender: fc.constantFrom('MALE' as const, 'FEMALE' as const, 'OTHER' as const),
        listId: text,
        metadata: fc.dictionary(text, fc.string({ maxLength: 8 }), { minKeys: 1, maxKeys: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(filters, (f) => {
        expect(filtersFromParams(filtersToParams(f))).toEqual(f);
      }),
    );
  });

  it('shows one chip per filter, and removing a chip removes only its filter', () => {
    const filters: CustomerFilters = {
      q: 'ann',
      hasAgreedToMarketing: true,
      totalSpendMin: 1250,
      listId: 'L1',
      metadata: { tier: 'gold', city: 'Melb' },
    };
    const chips = chipsOf(filters, (id) => (id === 'L1' ? 'VIP' : undefined));
    expect(chips).toEqual([
      { id: 'hasAgreedToMarketing', label: 'Marketing: opted in' },
      { id: 'totalSpendMin', label: 'Spend ≥ 12.50' },
      { id: 'listId', label: 'List: VIP' },
      { id: 'metadata.tier', label: 'tier = gold' },
      { id: 'metadata.city', label: 'city = Melb' },
    ]);
    expect(withoutChip(filters, 'metadata.tier')).toEqual({ ...filters, metadata: { city: 'Melb' } });
    expect(withoutChip(withoutChip(filters, 'metadata.tier'), 'metadata.city')).not.toHaveProperty('metadata');
    expect(withoutChip(filters, 'hasAgreedToMarketing')).not.toHaveProperty('hasAgreedToMarketing');
    expect(filtersToParams(withoutChip(filters, 'listId')).has('listId')).toBe(false);
  });

  it('asks for a plain listing without filters, and never sends a search text the server would refuse', () => {
    expect(searchOptions({})).toBeUndefined();
    expect(searchOptions({ q: 'a', sort: 'updated' })).toBeUndefined();
    expect(searchOptions({ q: 'a', hasAgreedToMarketing: true })).toEqual({ hasAgreedToMarketing: true });
    expect(searchOptions({ q: 'an', metadata: { tier: 'gold' } })).toEqual({ q: 'an', metadata: { tier: 'gold' } });
  });

  it('turns the filters into a segment definition without the sort', () => {
    expect(
      segmentFilter({
        q: 'ann',
        sort: 'created',
        pointsBalanceMin: 5,
        hasAgreedToMarketing: false,
        metadata: { tier: 'gold' },
      }),
    ).toEqual({ q: 'ann', pointsBalanceMin: 5, hasAgreedToMarketing: false, 'metadata.tier': 'gold' });
    expect(segmentFilter({ q: 'a', listId: 'L1' })).toEqual({ listId: 'L1' });
  });
});
