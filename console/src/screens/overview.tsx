import { useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { useConsole } from '../context.js';
import type { Insights } from '../lib/api.js';
import { formatMoney, formatNumber } from '../lib/format.js';
import { useAsync } from '../lib/use-async.js';
import { BucketChart } from '../components/chart.js';
import { Empty, ErrorPanel, Loading } from '../components/status.js';

type Interval = Insights['interval'];
const RANGE_DAYS: Record<Interval, number> = { day: 30, week: 7 * 12, month: 365 };

export function Overview() {
  const { api, organization } = useConsole();
  const [interval, setInterval] = useState<Interval>('week');
  const insights = useAsync(
    (signal) => {
      const to = new Date();
      const from = new Date(to.getTime() - RANGE_DAYS[interval] * 86_400_000);
      return api.insights(organization.id, { from: from.toISOString(), to: to.toISOString(), interval }, signal);
    },
    [organization.id, interval],
  );
  const money = (cents: number) => formatMoney(cents, organization.currency);
  const data = insights.data;
  const charts = useMemo(
    () =>
      data && {
        customers: [{ label: 'New customers', points: data.series.newCustomers, color: '#1f5fbf' }],
        points: [
          { label: 'Earned', points: data.series.pointsEarned, color: '#1b6e3a' },
          { label: 'Redeemed', points: data.series.pointsRedeemed, color: '#b4530a' },
        ],
        spend: [
          {
            label: `Spend (${organization.currency})`,
            points: data.series.spend.map((b) => ({ start: b.start, value: Math.round(b.value / 100) })),
            color: '#6b2fa3',
          },
        ],
      },
    [data],
  );

  return (
    <main id="main">
      <div class="screen-head">
        <h1>{organization.name}</h1>
        <label>
          Per
          <select value={interval} onChange={(e) => setInterval((e.target as HTMLSelectElement).value as Interval)}>
            <option value="day">day (30 days)</option>
            <option value="week">week (12 weeks)</option>
            <option value="month">month (12 months)</option>
          </select>
        </label>
      </div>
      {insights.status === 'error' ? (
        <ErrorPanel error={insights.error} onRetry={insights.reload} />
      ) : !data || !charts ? (
        <Loading label="Loading overview…" />
      ) : data.marketingOptIn.total === 0 ? (
        <Empty>
          <p>
            No customers yet. <Link href="/data">Import some</Link> to see the overview.
          </p>
        </Empty>
      ) : (
        <>
          <dl class="stats panel">
            <div>
              <dt>Customers</dt>
              <dd>{formatNumber(data.marketingOptIn.total)}</dd>
            </div>
            <div>
              <dt>Opted in to marketing</dt>
              <dd data-testid="opt-in">
                {Math.round((100 * data.marketingOptIn.agreed) / data.marketingOptIn.total)}% (
                {formatNumber(data.marketingOptIn.agreed)})
              </dd>
            </div>
            <div>
              <dt>New in range</dt>
              <dd>{formatNumber(data.series.newCustomers.reduce((sum, b) => sum + b.value, 0))}</dd>
            </div>
            <div>
              <dt>Spend in range</dt>
              <dd>{money(data.series.spend.reduce((sum, b) => sum + b.value, 0))}</dd>
            </div>
          </dl>
          <div class="grid">
            <section class="panel">
              <BucketChart
                title={`New customers per ${interval}`}
                series={charts.customers}
                timeZone={data.timezone}
                bars
              />
            </section>
            <section class="panel">
              <BucketChart
                title={`Points earned and redeemed per ${interval}`}
                series={charts.points}
                timeZone={data.timezone}
              />
            </section>
            <section class="panel">
              <BucketChart title={`Spend per ${interval}`} series={charts.spend} timeZone={data.timezone} bars />
            </section>
            <section class="panel" aria-labelledby="top-lists">
              <h2 id="top-lists">Top lists</h2>
              {data.topLists.length === 0 ? (
                <p class="help">No lists yet.</p>
              ) : (
                <ul class="bars">
                  {data.topLists.map((list) => (
                    <li key={list.id} class="bar-row">
                      <Link href={`/lists/${list.id}`}>{list.name}</Link>
                      <span
                        class="bar"
                        style={{ width: `${Math.max(2, (100 * list.memberCount) / data.topLists[0]!.memberCount)}%` }}
                      />
                      <span class="number">{formatNumber(list.memberCount)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>
          <p class="help">Times in {data.timezone}.</p>
        </>
      )}
    </main>
  );
}
