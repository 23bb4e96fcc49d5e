import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  topFunctions: ProfileLine[];
  /** Inclusive (self + callees) time of our own functions and the framework's hooks. */
  inclusive: ProfileLine[];
  /** Self time grouped by package (node_modules/<pkg>), our source, or node internals. */
  byArea: ProfileLine[];
}

function areaOf(url: string): string {
  if (url === '') return '(native / GC / idle)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/dist\/(.+)$/.exec(url);
  if (ours) return `customers-api ${ours[1]!.split('/').slice(0, 2).join('/')}`;
  return path.basename(url);
}

/** Self time per function and per area of a V8 .cpuprofile, idle time excluded. */
export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += time;
    const name =
      `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + time);
    const area = functionName === '(garbage collector)' ? '(garbage collector)' : areaOf(url);
    areas.set(area, (areas.get(area) ?? 0) + time);
  }
  // Inclusive time: walk each sampled node's ancestors once per distinct function name.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, time] of self) {
    const leaf = byId.get(id)!.callFrame.functionName;
    if (leaf === '(idle)' || leaf === '(program)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (!url.includes('/dist/') && !url.includes('node_modules/fastify/') && !url.includes('node_modules/pino/'))
        continue;
      const name = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + time);
    }
  }
  const rank = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, time]) => ({ name, selfPercent: (100 * time) / total }));
  return { file, topFunctions: rank(functions, top), inclusive: rank(inclusive, top), byArea: rank(areas, 15) };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [`CPU profile ${summary.file} (self time, idle excluded)`, '  by area:'];
  for (const line of summary.byArea) lines.push(`    ${line.selfPercent.toFixed(1).padStart(5)}%  ${line.name}`);
  lines.push('  inclusive time (ours, fastify, pino):');
  for (const line of summary.inclusive) lines.push(`    ${line.selfPercent.toFixed(1).padStart(5)}%  ${line.name}`);
  lines.push('  top functions (self):');
  for (const line of summary.topFunctions) lines.push(`    ${line.selfPercent.toFixed(1).padStart(5)}%  ${line.name}`);
  return lines.join('\n');
}

// `node bench/.build/bench/profile.js <file.cpuprofile>` prints a summary.
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1])) && process.argv[2]) {
  console.log(formatProfile(summarizeProfile(process.argv[2])));
}
