// The segments part of `npm run bench` on its own: node bench/.build/bench/segments-write.js [--quick] [--no-postgres]
import { standaloneContext } from './context.js';
import { isPostgresAvailable } from './data.js';
import { renderFigures } from './report.js';
import { runSegmentWriteBenchmarks } from './scenarios/segments.js';

const context = standaloneContext({ quick: process.argv.includes('--quick') });
const postgres = !process.argv.includes('--no-postgres') && (await isPostgresAvailable());
console.log(renderFigures(await runSegmentWriteBenchmarks(context, postgres)));
