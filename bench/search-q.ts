// The q search part of `npm run bench` on its own, at 10,000 and N customers:
// node bench/.build/bench/search-q.js [N] [--quick] [--no-postgres]
import { standaloneContext } from './context.js';
import { isPostgresAvailable } from './data.js';
import { renderFigures } from './report.js';
import { runSearchQBenchmarks } from './scenarios/search-q.js';

const size = process.argv.slice(2).find((arg) => /^\d+$/.test(arg));
const context = standaloneContext({
  quick: process.argv.includes('--quick'),
  ...(size ? { customers: Number(size) } : {}),
});
const postgres = !process.argv.includes('--no-postgres') && (await isPostgresAvailable());
console.log(renderFigures(await runSearchQBenchmarks(context, postgres)));
