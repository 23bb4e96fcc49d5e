import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Insights } from '../lib/api.js';

/** Axis ticks stay short whatever the size (12K, 1.5M); exact values are in the legend and the table. */
const compact = new Intl.NumberFormat('en-AU', { notation: 'compact', maximumFractionDigits: 1 });

type Bucket = Insights['series']['newCustomers'][number];

export interface ChartSeries {
  label: string;
  points: Bucket[];
  color: string;
  /** Shown in the legend and the hover values; raw numbers otherwise. */
  format?: (value: number) => string;
}

/**
 * A bar or line chart of buckets (uPlot, canvas). Its numbers are also in a table under the chart, so a screen reader
 * or keyboard user gets them without the picture.
 */
export function BucketChart({
  title,
  series,
  timeZone,
  bars = false,
}: {
  title: string;
  series: ChartSeries[];
  timeZone: string;
  bars?: boolean;
}) {
  const target = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = target.current;
    if (!element || series.length === 0) return;
    const x = series[0]!.points.map((point) => Date.parse(point.start) / 1000);
    const data: uPlot.AlignedData = [x, ...series.map((s) => s.points.map((point) => point.value))];
    const width = () => Math.max(260, element.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
        scales: { x: { time: true } },
        legend: { live: true },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: bars ? `${s.color}cc` : `${s.color}22`,
            width: 2,
            ...(bars ? { paths: uPlot.paths.bars!({ size: [0.7 / series.length, 60] }) } : {}),
            ...(s.format ? { value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format!(v)) } : {}),
          })),
        ],
        axes: [{}, { size: 56, values: (_u: uPlot, ticks: number[]) => ticks.map((tick) => compact.format(tick)) }],
      },
      data,
      element,
    );
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series, timeZone]);

  return (
    <figure class="chart-figure">
      <figcaption>{title}</figcaption>
      <div class="chart" ref={target} aria-hidden="true" />
      <details>
        <summary>{title} as a table</summary>
        <table class="data-table">
          <thead>
            <tr>
              <th scope="col">Period from</th>
              {series.map((s) => (
                <th key={s.label} scope="col" class="number">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {series[0]?.points.map((point, index) => (
              <tr key={point.start}>
                <td>
                  {new Intl.DateTimeFormat('en-AU', { dateStyle: 'medium', timeZone }).format(new Date(point.start))}
                </td>
                {series.map((s) => (
                  <td key={s.label} class="number">
                    {(s.format ?? String)(s.points[index]?.value ?? 0)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
