import {
  DEFAULT_INSIGHT_BUCKETS,
  MAX_INSIGHT_BUCKETS,
  TOP_LIST_COUNT,
  type Insights,
  type InsightsQuery,
} from '../../contract/insights.js';
import { badRequest, invalidField, notFound } from '../../errors.js';
import { countMarketingOptIn, findTopLists, sumBuckets } from '../../store/repositories/insight-repository.js';
import { createOrganizationReads } from '../../store/repositories/organization-repository.js';
import type { Store } from '../../store/store.js';
import { formatMillis, parseTimestamp } from '../time.js';
import { bucketsCovering, bucketStartBefore } from './buckets.js';

function timestampParameter(name: 'from' | 'to', value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === undefined) throw invalidField(name, 'must be an RFC 3339 date-time such as 2026-09-01T00:00:00Z');
  return ms;
}

/** The operator console's overview: per-bucket series in the organization's time zone and a few current totals. */
export function createInsightService(store: Store) {
  const organizations = createOrganizationReads(store);
  return {
    async getInsights(organizationId: string, query: InsightsQuery, now = Date.now()): Promise<Insights> {
      const interval = query.interval ?? 'week';
      const organization = await organizations.findById(organizationId);
      if (!organization) throw notFound('Organization');
      const timezone = organization.timezone;
      const to = timestampParameter('to', query.to) ?? now;
      const from =
        timestampParameter('from', query.from) ??
        bucketStartBefore(timezone, interval, to - 1, DEFAULT_INSIGHT_BUCKETS[interval] - 1);
      if (from >= to) throw invalidField('from', 'must be before to');
      const buckets = bucketsCovering(timezone, interval, from, to, MAX_INSIGHT_BUCKETS);
      if (!buckets) {
        throw badRequest(`The range holds more than ${MAX_INSIGHT_BUCKETS} ${interval} buckets; narrow it`, [
          { field: 'from', message: `at most ${MAX_INSIGHT_BUCKETS} buckets of the interval` },
        ]);
      }
      const [totals, marketingOptIn, lists] = await Promise.all([
        sumBuckets(store, organizationId, buckets),
        countMarketingOptIn(store.db, organizationId),
        findTopLists(store.db, organizationId, TOP_LIST_COUNT),
      ]);
      const series = (pick: (t: (typeof totals)[number]) => number) =>
        buckets.map((bucket, i) => ({ start: formatMillis(bucket.start), value: pick(totals[i]!) }));
      return {
        from: formatMillis(buckets[0]!.start),
        interval,
        marketingOptIn,
        series: {
          newCustomers: series((t) => t.newCustomers),
          pointsEarned: series((t) => t.pointsEarned),
          pointsRedeemed: series((t) => t.pointsRedeemed),
          spend: series((t) => t.spend),
        },
        timezone,
        to: formatMillis(buckets.at(-1)!.end),
        topLists: lists.map((list) => ({ id: list.id, memberCount: Number(list.member_count), name: list.name })),
      };
    },
  };
}
export type InsightService = ReturnType<typeof createInsightService>;
