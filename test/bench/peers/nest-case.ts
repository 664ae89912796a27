/**
 * The Nest-level comparison (issue 9): messages/s through a Nest handler, ours — a
 * `@RocketListener` method of a RocketMQModule app, fed by `RocketTemplate.send` — against Nest's
 * own RMQ transport — an `@EventPattern` handler of a `Transport.RMQ` microservice with
 * `noAck: false` (the handler acks), fed by `ClientRMQ.emit` with persistent messages — on the
 * same RabbitMQ, with the same JSON payloads (~1 KiB) and the same window and prefetch. Ours runs
 * against a fresh async-flush broker process (D0, as a durable classic queue is). Each side runs in
 * a child of its own (nest-child.ts).
 */
import { nodeArgsOf, runMarkedChild } from '../common/child-process.js';

export const NEST_MARKER = 'NEST_BENCH_RESULT ';
/** The event pattern of the RMQ side (Nest routes by it inside one queue). */
export const NEST_PATTERN = 'bench';
/** Characters of padding that bring a payload's JSON to about 1 KiB. */
export const NEST_PAD_CHARS = 980;

export type NestSide = 'ours' | 'rmq';

export interface NestBenchPayload {
  readonly i: number;
  /** Send time on the child's `nowMs` clock. */
  readonly t: number;
  readonly pad: string;
}

export interface NestCaseInput {
  readonly side: NestSide;
  /** ours: the broker's host:port; rmq: the AMQP URL. */
  readonly address: string;
  /** Topic (ours) or queue (rmq), fresh per round. */
  readonly name: string;
  readonly messages: number;
  readonly warmupMessages: number;
  readonly consumeTimeoutMs: number;
}

export interface NestMeasure {
  readonly side: NestSide;
  readonly messages: number;
  /** From the first send to the last message through the handler. */
  readonly msgsPerSecond: number;
  readonly pubMsgsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly consumed: number;
  readonly deliveries: number;
}

export function runNestCase(
  input: NestCaseInput,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<NestMeasure> {
  return runMarkedChild<NestMeasure>({
    args: [...nodeArgsOf(import.meta.url, './nest-child'), JSON.stringify(input)],
    marker: NEST_MARKER,
    timeoutMs,
    label: `nest ${input.side}`,
    ...(signal ? { signal } : {}),
  });
}
