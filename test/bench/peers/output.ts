/**
 * Writes a run's report where `npm run bench` leaves it: `<dir>/peers.md` (the tables),
 * `<dir>/peers.jsonl` (the BENCH lines, prefix stripped), `<dir>/peers.svg` (the chart), and a
 * copy of each under the run's timestamp so earlier runs are kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartOf } from './chart.js';
import { type BenchRun } from './harness.js';
import { benchLinesOf, buildReport, markdownOf, type BenchReport } from './report.js';

export interface WrittenReport {
  readonly report: BenchReport;
  readonly markdown: string;
  readonly benchLines: readonly string[];
  readonly svg: string;
  /** Files written (latest names first). */
  readonly files: readonly string[];
}

export function writeReport(run: BenchRun, dir: string): WrittenReport {
  const report = buildReport(run);
  const markdown = markdownOf(run, report);
  const benchLines = benchLinesOf(run, report);
  const svg = chartOf(run, report);
  mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const contents: Array<[string, string]> = [
    ['md', markdown],
    ['jsonl', `${benchLines.map((l) => l.replace(/^BENCH /, '')).join('\n')}\n`],
    ['svg', svg],
  ];
  const files: string[] = [];
  for (const [ext, text] of contents) {
    for (const name of [`peers.${ext}`, `peers-${stamp}.${ext}`]) {
      const file = join(dir, name);
      writeFileSync(file, text);
      files.push(file);
    }
  }
  return { report, markdown, benchLines, svg, files };
}
