/**
 * The run as an SVG chart (hand-built, no dependency): one row per durability class, one panel per
 * workload, a bar per system at its median with a min–max whisker; W3 panels show p99 latency
 * (lower is better), the others msg/s (higher is better). Skipped or failed systems are named in
 * the panel instead of drawn.
 */
import { type BenchRun } from './harness.js';
import { WORKLOAD_METRIC, type BenchReport, type ResultRow, type Stat } from './report.js';
import { SYSTEMS, type Durability, type Family } from './systems.js';

const PANEL_W = 190;
const PANEL_H = 200;
const PLOT_TOP = 56;
const PLOT_BOTTOM = 40;
const MARGIN = 20;
const HEADER_H = 60;
const ROW_LABEL_W = 50;
const COLORS: Readonly<Record<Family, string>> = { ours: '#e8590c', rabbit: '#7048e8', jetstream: '#1c7ed6' };
const SHORT: Readonly<Record<Family, string>> = { ours: 'ours', rabbit: 'RabbitMQ', jetstream: 'JetStream' };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function compact(n: number): string {
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(2);
}

function panel(
  x: number,
  y: number,
  title: string,
  rows: ReadonlyArray<{ family: Family; stat: Stat | null; note?: string }>,
  unit: string,
): string {
  const parts: string[] = [];
  parts.push(`<rect x="${x}" y="${y}" width="${PANEL_W}" height="${PANEL_H}" fill="#fff" stroke="#dee2e6"/>`);
  parts.push(
    `<text x="${x + PANEL_W / 2}" y="${y + 16}" text-anchor="middle" font-size="11" font-weight="bold">${esc(title)}</text>`,
  );
  parts.push(
    `<text x="${x + PANEL_W / 2}" y="${y + 30}" text-anchor="middle" font-size="10" fill="#868e96">${esc(unit)}</text>`,
  );
  const top = Math.max(1e-9, ...rows.map((r) => r.stat?.max ?? 0));
  const plotH = PANEL_H - PLOT_TOP - PLOT_BOTTOM;
  const base = y + PANEL_H - PLOT_BOTTOM;
  const slot = (PANEL_W - 20) / Math.max(1, rows.length);
  rows.forEach((r, i) => {
    const cx = x + 10 + slot * i + slot / 2;
    const barW = Math.min(36, slot * 0.6);
    parts.push(
      `<text x="${cx}" y="${base + 14}" text-anchor="middle" font-size="10">${SHORT[r.family]}</text>`,
    );
    if (!r.stat) {
      parts.push(
        `<text x="${cx}" y="${base - 6}" text-anchor="middle" font-size="9" fill="#c92a2a">${esc(r.note ?? 'failed')}</text>`,
      );
      return;
    }
    const h = (v: number): number => (v / top) * plotH;
    parts.push(
      `<rect x="${cx - barW / 2}" y="${base - h(r.stat.median)}" width="${barW}" height="${h(r.stat.median)}" fill="${COLORS[r.family]}"/>`,
    );
    if (r.stat.max > r.stat.min) {
      parts.push(
        `<line x1="${cx}" y1="${base - h(r.stat.min)}" x2="${cx}" y2="${base - h(r.stat.max)}" stroke="#212529" stroke-width="1"/>`,
      );
      for (const v of [r.stat.min, r.stat.max]) {
        parts.push(
          `<line x1="${cx - 5}" y1="${base - h(v)}" x2="${cx + 5}" y2="${base - h(v)}" stroke="#212529" stroke-width="1"/>`,
        );
      }
    }
    parts.push(
      `<text x="${cx}" y="${base - h(r.stat.max) - 4}" text-anchor="middle" font-size="10">${compact(r.stat.median)}</text>`,
    );
  });
  parts.push(`<line x1="${x + 5}" y1="${base}" x2="${x + PANEL_W - 5}" y2="${base}" stroke="#adb5bd"/>`);
  return parts.join('\n');
}

export function chartOf(run: BenchRun, report: BenchReport): string {
  const workloads = run.config.workloads;
  const classes: Durability[] = ['D0', 'D1'];
  const columns = workloads.length + (report.nest ? 1 : 0);
  const width = ROW_LABEL_W + columns * (PANEL_W + MARGIN) + MARGIN;
  const height = HEADER_H + classes.length * (PANEL_H + MARGIN) + MARGIN;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#f8f9fa"/>`);
  parts.push(
    `<text x="${MARGIN}" y="24" font-size="15" font-weight="bold">Ours vs RabbitMQ vs NATS JetStream — ${run.config.messages.toLocaleString('en-US')} × 1 KiB, median of ${run.config.rounds} round(s), whiskers min–max</text>`,
  );
  parts.push(
    `<text x="${MARGIN}" y="44" font-size="11" fill="#495057">${esc(`${run.startedAt} · nproc ${run.nproc} · D0 = acked from OS cache, D1 = fsync before ack; compare within a row only`)}</text>`,
  );
  classes.forEach((durability, row) => {
    const y = HEADER_H + row * (PANEL_H + MARGIN);
    parts.push(
      `<text x="${MARGIN}" y="${y + PANEL_H / 2}" font-size="14" font-weight="bold">${durability}</text>`,
    );
    workloads.forEach((workload, col) => {
      const x = ROW_LABEL_W + col * (PANEL_W + MARGIN);
      const latency = WORKLOAD_METRIC[workload].kind === 'latency';
      const bars = SYSTEMS.filter((s) => s.durability === durability).flatMap((s) => {
        const row: ResultRow | undefined = report.rows.find(
          (r) => r.system.id === s.id && r.workload === workload,
        );
        const skipped = run.skipped.find((k) => k.id === s.id);
        if (!row && !skipped) return [];
        return [
          {
            family: s.family,
            stat: row ? (latency ? row.p99Ms : row.msgsPerSecond) : null,
            note: skipped ? 'skipped' : 'failed',
          },
        ];
      });
      const title = WORKLOAD_METRIC[workload].title.replace(/ \(.*\)$/, '');
      parts.push(panel(x, y, title, bars, latency ? 'p99 ms, lower is better' : 'msg/s, higher is better'));
    });
  });
  if (report.nest) {
    // Nest level runs ours on an async-flush broker against a durable classic queue: the D0 row.
    const x = ROW_LABEL_W + workloads.length * (PANEL_W + MARGIN);
    const bars = report.nest.rows.map((r) => ({
      family: (r.side === 'ours' ? 'ours' : 'rabbit') as Family,
      stat: r.msgsPerSecond,
    }));
    if (run.nestSkipped) bars.push({ family: 'rabbit', stat: null });
    parts.push(panel(x, HEADER_H, 'Nest handler vs Nest RMQ', bars, 'msg/s, higher is better'));
  }
  parts.push('</svg>');
  return parts.join('\n');
}
