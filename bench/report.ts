import type { Dataset } from './data.js';

export type Target =
  | { kind: 'ratio'; min: number }
  | { kind: 'absolute'; min: number }
  | { kind: 'max'; max: number }
  /** ours / baseline at most this (memory). */
  | { kind: 'ratioMax'; max: number }
  | { kind: 'info' };

export interface Figure {
  section: string;
  name: string;
  /** Our figure; undefined while the feature it measures has not landed. */
  ours: number | undefined;
  /** The baseline (or reference) figure from the same run; undefined when there is none. */
  base: number | undefined;
  unit: string;
  detail: string;
  target: Target;
  /**
   * CPU time of the server (or importer) per unit of work, ours and the reference's. On a machine
   * shared with other work, throughput follows the scheduler; CPU per unit of work hardly does.
   */
  cpu?: { ours: number; base: number; unit: string } | undefined;
  /** Why there is no figure yet. */
  pending?: string;
}

export interface Report {
  date: string;
  durationSeconds: number;
  command: string;
  machine: {
    cpu: string;
    cores: number;
    ramGb: number;
    node: string;
    npm: string;
    sqlite: string;
    postgres: string;
    os: string;
    loadBefore: string;
    loadAfter: string;
    /** µs for JSON.stringify + JSON.parse of one customer-sized object, best of 5 × 20,000. */
    calibrationBefore: number;
    calibrationAfter: number;
    cpuPressure: string;
  };
  settings: Record<string, number>;
  datasets: Dataset[];
  figures: Figure[];
  notes: string[];
  profiles: string[];
}

function formatNumber(value: number | undefined, unit = ''): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })}${unit ? ` ${unit}` : ''}`;
}

/**
 * The reference's CPU per unit of work over ours: like the throughput ratio, above 1 is better for us. For a cost
 * compared with a most (`ratioMax`: times, memory) it is ours over the reference's, like the figure's own ratio.
 */
export function cpuRatioOf(figure: Figure): number | undefined {
  if (!figure.cpu || figure.cpu.ours <= 0 || figure.cpu.base <= 0) return undefined;
  return figure.target.kind === 'ratioMax' ? figure.cpu.ours / figure.cpu.base : figure.cpu.base / figure.cpu.ours;
}

function ratioOf(figure: Figure): number | undefined {
  if (figure.ours === undefined || figure.base === undefined || figure.base === 0) return undefined;
  return figure.ours / figure.base;
}

export function targetText(target: Target, unit: string): string {
  switch (target.kind) {
    case 'ratio':
      return `≥ ${target.min}×`;
    case 'absolute':
      return `≥ ${formatNumber(target.min)} ${unit}`;
    case 'max':
      return `< ${formatNumber(target.max)} ${unit}`;
    case 'ratioMax':
      return `≤ ${target.max}×`;
    case 'info':
      return '';
  }
}

export function cpuVerdict(figure: Figure): 'met' | 'MISSED' | '' {
  const ratio = cpuRatioOf(figure);
  if (ratio === undefined) return '';
  if (figure.target.kind === 'ratio') return ratio >= figure.target.min ? 'met' : 'MISSED';
  if (figure.target.kind === 'ratioMax') return ratio <= figure.target.max ? 'met' : 'MISSED';
  return '';
}

export function verdict(figure: Figure): 'met' | 'MISSED' | '' | 'pending' {
  if (figure.pending) return 'pending';
  const ratio = ratioOf(figure);
  switch (figure.target.kind) {
    case 'ratio':
      return ratio === undefined ? '' : ratio >= figure.target.min ? 'met' : 'MISSED';
    case 'absolute':
      return figure.ours === undefined ? '' : figure.ours >= figure.target.min ? 'met' : 'MISSED';
    case 'max':
      return figure.ours === undefined ? '' : figure.ours < figure.target.max ? 'met' : 'MISSED';
    case 'ratioMax':
      return ratio === undefined ? '' : ratio <= figure.target.max ? 'met' : 'MISSED';
    case 'info':
      return '';
  }
}

interface Row {
  scenario: string;
  ours: string;
  base: string;
  ratio: string;
  target: string;
  verdict: string;
  cpu: string;
  cpuRatio: string;
  cpuVerdict: string;
  detail: string;
}

function rows(report: Pick<Report, 'figures'>): { section: string; rows: Row[] }[] {
  const sections: { section: string; rows: Row[] }[] = [];
  for (const figure of report.figures) {
    let section = sections.find((s) => s.section === figure.section);
    if (!section) sections.push((section = { section: figure.section, rows: [] }));
    const ratio = ratioOf(figure);
    section.rows.push({
      scenario: figure.name,
      ours: figure.pending ? 'pending' : formatNumber(figure.ours, figure.unit),
      base: formatNumber(figure.base, figure.unit),
      ratio: ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
      target: targetText(figure.target, figure.unit),
      verdict: verdict(figure),
      cpu: figure.cpu ? `${formatNumber(figure.cpu.ours)} / ${formatNumber(figure.cpu.base)} ${figure.cpu.unit}` : '',
      cpuRatio: cpuRatioOf(figure) === undefined ? '' : `${cpuRatioOf(figure)!.toFixed(2)}×`,
      cpuVerdict: cpuVerdict(figure),
      detail: figure.pending ?? figure.detail,
    });
  }
  return sections;
}

/** A plain-text table for the terminal. */
export function renderTable(report: Pick<Report, 'figures'>): string {
  const lines: string[] = [];
  const widths = [52, 20, 20, 6, 16, 7, 6, 7];
  const cell = (text: string, width: number) =>
    text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
  lines.push(
    ['scenario', 'customers-api', 'baseline / ref', 'ratio', 'target', '', 'CPU', '']
      .map((t, i) => cell(t, widths[i]!))
      .join(' '),
  );
  for (const section of rows(report)) {
    lines.push(`-- ${section.section}`);
    for (const row of section.rows) {
      lines.push(
        [row.scenario, row.ours, row.base, row.ratio, row.target, row.verdict, row.cpuRatio, row.cpuVerdict]
          .map((t, i) => cell(t, widths[i]!))
          .join(' '),
      );
    }
  }
  return lines.join('\n');
}

/** The terminal table of some figures, with CPU per unit of work (for a scenario run on its own). */
export function renderFigures(figures: Figure[]): string {
  const lines = [renderTable({ figures }), ''];
  for (const section of rows({ figures })) {
    for (const row of section.rows)
      lines.push(
        `${row.scenario}: ${row.ours} vs ${row.base}; CPU ${row.cpu} ${row.cpuRatio} ${row.cpuVerdict}; ${row.detail}`,
      );
  }
  return lines.join('\n');
}

const escape = (text: string) => text.replace(/\|/g, '\\|');

/** One `### ` section of a report's "## Figures": its name and its Markdown (heading, provenance line, table, prose). */
export interface FigureSection {
  section: string;
  text: string;
}

const PROVENANCE = /^_Measured by `[^`]*` on [^_]*\._$/m;
/** The Machine section's load line, as renderMarkdown writes it. */
const LOAD_LINE =
  /^- Load average \(1\/5\/15 min\) before the run: (.+?); after: (.+?); CPU pressure \(PSI "some", 5 min\) at the end: (.+?)\. /m;

/** The line under a section's heading naming the run that measured it, and how loaded the machine was. */
function provenanceLine(
  command: string,
  date: string,
  load: { before: string; after: string; pressure: string } | undefined,
): string {
  const how = load ? ` (load average ${load.before} before, ${load.after} after; CPU pressure ${load.pressure})` : '';
  return `_Measured by ${command} on ${date}${how}._`;
}
/** The header of the table a run writes for a section: a section whose body starts with anything else was written by hand. */
const FIGURES_TABLE_HEADER = [
  '| scenario | customers-api | baseline / reference | ratio | target | | CPU ours / ref | CPU ratio | | detail |',
  '|---|---:|---:|---:|---|---|---:|---:|---|---|',
];

/**
 * The figure sections of an earlier RESULTS.md, so that a run of some parts can keep the others' figures. A section a
 * run wrote (it starts with the run's table) gets a line naming the run that measured it, from the old file's
 * "Generated by" line, when it has none yet. A section written by hand (a separate run described in its own words:
 * prose, a command, its output) is kept as it is: it is not the whole run's, and says which run it was.
 */
export function figureSectionsOf(markdown: string): FigureSection[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('## Figures');
  if (start === -1) return [];
  const generated = /^Generated by (`[^`]*`) on (\S+) \(/m.exec(markdown);
  const loadLine = LOAD_LINE.exec(markdown);
  const load = loadLine ? { before: loadLine[1]!, after: loadLine[2]!, pressure: loadLine[3]! } : undefined;
  const sections: FigureSection[] = [];
  let current: { section: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const text = current.lines.join('\n').trim();
    const [heading, ...rest] = text.split('\n');
    const body = rest.join('\n').trim();
    const written = body.startsWith(FIGURES_TABLE_HEADER[0]!);
    const provenance =
      !written || PROVENANCE.test(body) || !generated
        ? ''
        : `${provenanceLine(generated[1]!, generated[2]!, load)}\n\n`;
    sections.push({ section: current.section, text: `${heading}\n\n${provenance}${body}` });
  };
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (line.startsWith('### ')) {
      flush();
      current = { section: line.slice(4), lines: [line] };
    } else current?.lines.push(line);
  }
  flush();
  return sections;
}

/**
 * bench/RESULTS.md: machine, commands, figures with their same-run baselines, notes, and the analysis. `previous` (the
 * file as it was) keeps the sections this run did not measure, in their place and marked with the run that did (a
 * section this run measured is replaced whole); new sections go at the end.
 */
export function renderMarkdown(report: Report, analysis: string, previous = ''): string {
  const m = report.machine;
  const out: string[] = [];
  out.push('# Benchmark results', '');
  out.push(
    `Generated by \`${report.command}\` on ${report.date} (${report.durationSeconds.toFixed(0)} s). ` +
      'Every figure of ours is paired with the bare `node:http` baseline (`bench/baseline/server.ts`) measured in the same run, ' +
      'back to back on the same data; the ratio is ours / baseline unless the detail says otherwise. ' +
      'Each section names the run that measured it: a run of some parts (`--only`) replaces their sections and keeps the others.',
    '',
  );
  out.push('## Machine', '');
  out.push(`- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.ramGb.toFixed(1)} GiB; ${m.os}`);
  out.push(`- Node ${m.node}, npm ${m.npm}; SQLite ${m.sqlite} (better-sqlite3); PostgreSQL ${m.postgres}`);
  out.push(
    `- Load average (1/5/15 min) before the run: ${m.loadBefore}; after: ${m.loadAfter}; CPU pressure (PSI "some", 5 min) at the end: ${m.cpuPressure}. The machine is shared with other engineers' test runs and builds.`,
  );
  out.push(
    `- Core speed check (JSON.stringify + JSON.parse of one customer-sized object, best of 5 × 20,000): ${m.calibrationBefore.toFixed(2)} µs before the run, ${m.calibrationAfter.toFixed(2)} µs after.`,
  );
  out.push('');
  out.push('## How it was measured', '');
  const s = report.settings;
  out.push(
    `- Command: \`${report.command}\` (builds, compiles \`bench/\` with \`tsc -p bench/tsconfig.json\`, runs \`bench/.build/bench/run.js\`).`,
    `- Data: ${s.customers?.toLocaleString('en')} customers in one organization (and ${s.small?.toLocaleString('en')} in another database for the search comparison), generated straight into the database through the store and repositories, cached under \`bench/.data\`.`,
    '- customers-api runs as `node ./bin/customers-api serve` in its own process with `LOG_LEVEL=info` (one JSON log line per request, to /dev/null), bearer-token auth on every request. The baseline runs as `node bench/.build/bench/baseline/server.js` in its own process.',
    `- Load: autocannon 8 on loopback from the harness process; ${s.seconds} s per measurement after a ${s.warmup} s warm-up; ${s.readConnections} connections for single reads and searches, ${s.listConnections} for pages of 1000; ours first, then the baseline, back to back.`,
    '- Before measuring, both servers must return identical JSON for a get, page 1 of each sort, an email and a phone search, and the deep pages (their first row must be the expected row at 90% depth).',
    '- Full sync follows `X-Next-Page` with `sort=updated` from the first page to the last; the next request goes out as soon as the headers arrive.',
    '',
  );
  out.push('## Figures', '');
  const measured: FigureSection[] = rows(report).map((section) => {
    const load = { before: m.loadBefore, after: m.loadAfter, pressure: m.cpuPressure };
    const lines = [`### ${section.section}`, '', provenanceLine(`\`${report.command}\``, report.date, load), ''];
    lines.push(...FIGURES_TABLE_HEADER);
    for (const row of section.rows) {
      lines.push(
        `| ${escape(row.scenario)} | ${row.ours} | ${row.base} | ${row.ratio} | ${row.target} | ${row.verdict} | ${row.cpu} | ${row.cpuRatio} | ${row.cpuVerdict} | ${escape(row.detail)} |`,
      );
    }
    return { section: section.section, text: lines.join('\n') };
  });
  const kept = figureSectionsOf(previous);
  const sections = kept.map((old) => measured.find((m) => m.section === old.section) ?? old);
  sections.push(...measured.filter((m) => !kept.some((old) => old.section === m.section)));
  for (const section of sections) out.push(section.text, '');
  if (report.notes.length) {
    out.push('## Run notes', '');
    for (const note of report.notes) out.push(`- ${note}`);
    out.push('');
  }
  if (report.profiles.length) {
    out.push('## CPU profiles of this run', '');
    for (const profile of report.profiles) out.push('```', profile, '```', '');
  }
  if (analysis.trim()) out.push(analysis.trim(), '');
  return out.join('\n');
}
