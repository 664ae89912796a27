/**
 * One bench child's job: one system, one round, every workload in turn, each on a fresh queue,
 * with the broker process's CPU and memory read around each. Shared by the harness (parent) and
 * system-child.ts.
 */
import { type ProcUsage } from './proc-stats.js';
import { type TargetSpec } from './target.js';
import { type WorkloadMeasure, type WorkloadSpec } from './workloads.js';

/** Starts the one stdout line that carries the child's answer. */
export const SYSTEM_RUN_MARKER = 'PEER_BENCH_RESULT ';

export interface SystemRunInput {
  readonly target: TargetSpec;
  /** The server process to charge (ours: the broker child; peers: found by port), if known. */
  readonly brokerPid: number | null;
  /** Queue names start with this (unique per run and round). */
  readonly queuePrefix: string;
  readonly bodyBytes: number;
  /** Messages published and consumed through a throwaway queue before the first workload. */
  readonly warmupMessages: number;
  readonly workloads: readonly WorkloadSpec[];
  readonly consumeTimeoutMs: number;
}

export interface WorkloadOutcome {
  readonly spec: WorkloadSpec;
  readonly measure?: WorkloadMeasure;
  /** Why the workload failed (the others still ran). */
  readonly error?: string;
  readonly broker?: ProcUsage;
}

export interface SystemRunOutput {
  readonly outcomes: readonly WorkloadOutcome[];
}
