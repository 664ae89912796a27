/**
 * Bench child: runs one system's workloads (system-run.ts) and prints the outcomes. Started by the
 * harness with the run's JSON on argv[2]; its own process, so that no system shares a heap, a JIT
 * or an event loop with another or with the harness.
 */
import { answerAndExit } from '../common/child-process.js';
import { sampleProc, usageBetween } from './proc-stats.js';
import {
  SYSTEM_RUN_MARKER,
  type SystemRunInput,
  type SystemRunOutput,
  type WorkloadOutcome,
} from './system-run.js';
import { type BenchTarget, type TargetSpec } from './target.js';
import { jetstreamTarget } from './targets/jetstream.js';
import { oursTarget } from './targets/ours.js';
import { rabbitTarget } from './targets/rabbit.js';
import { runWorkload, warmUp, type WorkloadEnv } from './workloads.js';

function targetOf(spec: TargetSpec): Promise<BenchTarget> {
  switch (spec.kind) {
    case 'ours':
      return oursTarget(spec.endpoint);
    case 'rabbit':
      return rabbitTarget(spec.url, spec.queueType);
    case 'jetstream':
      return jetstreamTarget(spec.servers);
  }
}

async function run(input: SystemRunInput): Promise<SystemRunOutput> {
  const env: WorkloadEnv = { bodyBytes: input.bodyBytes, consumeTimeoutMs: input.consumeTimeoutMs };
  const target = await targetOf(input.target);
  const outcomes: WorkloadOutcome[] = [];
  try {
    const warm = await target.openQueue(`${input.queuePrefix}_warmup`);
    await warmUp(warm, env, input.warmupMessages);
    await warm.remove();
    for (const spec of input.workloads) {
      const queue = await target.openQueue(`${input.queuePrefix}_${spec.id}`);
      const before = input.brokerPid === null ? undefined : sampleProc(input.brokerPid);
      try {
        const measure = await runWorkload(queue, spec, env);
        const after = input.brokerPid === null ? undefined : sampleProc(input.brokerPid);
        outcomes.push({ spec, measure, ...optionalUsage(usageBetween(before, after)) });
      } catch (err) {
        outcomes.push({ spec, error: err instanceof Error ? err.message : String(err) });
        await queue.stopConsuming().catch(() => undefined);
      }
      await queue.remove().catch(() => undefined);
    }
  } finally {
    await target.close().catch(() => undefined);
  }
  return { outcomes };
}

function optionalUsage(usage: ReturnType<typeof usageBetween>): Pick<WorkloadOutcome, 'broker'> {
  return usage === undefined ? {} : { broker: usage };
}

const raw = process.argv[2];
if (raw === undefined) {
  process.stderr.write('usage: system-child <SystemRunInput JSON>\n');
  process.exit(2);
}
answerAndExit(SYSTEM_RUN_MARKER, () => run(JSON.parse(raw) as SystemRunInput));
