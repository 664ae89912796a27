/**
 * Shapes shared by the Jest tests (which choose what to send and check what arrived) and the
 * scenario processes (which drive the official client). Plain JSON: they cross a process boundary.
 */

/** Starts the one stdout line that carries a scenario's JSON result. */
export const RESULT_MARKER = 'COMPAT_RESULT ';

/** How a scenario reaches the broker under test. */
export interface Connection {
  /** `host:port`. */
  readonly endpoint: string;
  /** The client's `sessionCredentials` (authentication on). */
  readonly credentials?: { readonly accessKey: string; readonly accessSecret: string };
}

/** A message to send, as the application would build it. */
export interface MessageSpec {
  /** The body's bytes, base64 (binary-safe). */
  readonly bodyBase64: string;
  /** Repeat the body this many times (large bodies without a huge argv). Default 1. */
  readonly bodyRepeat?: number;
  readonly tag?: string;
  readonly keys?: readonly string[];
  readonly properties?: Readonly<Record<string, string>>;
  readonly messageGroup?: string;
  /** Delivery time, ms since the epoch (a DELAY message). */
  readonly deliveryTimestamp?: number;
  /** Delivery time relative to the send (the client's `delay` option): a DELAY message. */
  readonly delayMs?: number;
}

/** What `producer.send()` answered. */
export interface ObservedReceipt {
  readonly messageId: string;
  readonly transactionId: string;
  readonly offset: number;
}

/** A delivered message as the application sees it, in JSON (body as base64, times in ms). */
export interface ObservedMessage {
  readonly messageId: string;
  readonly topic: string;
  readonly bodyBase64: string;
  readonly tag: string | null;
  readonly keys: string[];
  readonly properties: Record<string, string>;
  readonly messageGroup: string | null;
  readonly deliveryTimestamp: number | null;
  readonly bornTimestamp: number | null;
  readonly deliveryAttempt: number | null;
  /** Its offset in its queue. */
  readonly queueOffset: number | null;
  readonly corrupted: boolean;
  readonly receiptHandlePresent: boolean;
  /** When the application got it (ms since the epoch). */
  readonly receivedAt: number;
}

/** An error as the application sees it: class name, RocketMQ code and message. */
export interface ObservedError {
  readonly name: string;
  readonly code: number | null;
  readonly message: string;
  /** The same for `cause`, which is where `startup()` puts the real error. */
  readonly cause: ObservedError | null;
}

/** The body a spec stands for. */
export function specBody(spec: MessageSpec): Buffer {
  const unit = Buffer.from(spec.bodyBase64, 'base64');
  const times = spec.bodyRepeat ?? 1;
  return times === 1 ? unit : Buffer.concat(Array.from({ length: times }, () => unit));
}

// ------------------------------------------------------------ send-all.ts, scenarios/send.ts

export interface SentMessages {
  /** By index of the specs. */
  readonly receipts: ObservedReceipt[];
  /** When each send() was called and when it resolved, ms since the epoch, by index. */
  readonly sendStartedAt: number[];
  readonly sentAt: number[];
}

export interface SendInput {
  readonly connection: Connection;
  readonly topic: string;
  readonly messages: readonly MessageSpec[];
  /** Lanes sending at once (a message group always stays in one lane). Default 1. */
  readonly concurrency?: number;
}

export interface SendResult extends SentMessages {
  readonly shutdown: 'done' | 'timeout';
}

// ---------------------------------------------------- receive-loop.ts, scenarios/simple-receive.ts

export interface ReceiveLoopOptions {
  readonly expectCount: number;
  /** Keep polling this long after `expectCount` is reached. Default 0. */
  readonly settleMs?: number;
  /** Give up (and report what arrived) after this long. */
  readonly timeoutMs: number;
  /** Per receive(). Default 10 s (the broker's floor). */
  readonly invisibleDurationMs?: number;
  /** Default 16. */
  readonly batchSize?: number;
  /** Default true. */
  readonly ack?: boolean;
}

export interface PollRecord {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly count: number;
  readonly error?: ObservedError;
}

export interface ReceiveLoopResult {
  readonly received: ObservedMessage[];
  readonly polls: PollRecord[];
  readonly ackErrors: { messageId: string; error: ObservedError }[];
}

export interface SubscriptionInput {
  readonly connection: Connection;
  readonly group: string;
  readonly topic: string;
  /** TAG expression. Default `*`. */
  readonly filter?: string;
  /** The SimpleConsumer's long-polling `awaitDuration`. Default 5000. */
  readonly awaitDurationMs?: number;
}

export interface SimpleReceiveInput extends SubscriptionInput, ReceiveLoopOptions {}

export interface SimpleReceiveResult extends ReceiveLoopResult {
  readonly shutdown: 'done' | 'timeout';
}

// ----------------------------------------------------------------- scenarios/produce-consume.ts

export interface ProduceConsumeInput extends SubscriptionInput, ReceiveLoopOptions {
  readonly messages: readonly MessageSpec[];
  readonly concurrency?: number;
}

export interface ProduceConsumeResult extends SentMessages, ReceiveLoopResult {
  readonly shutdown: 'done' | 'timeout';
}

// --------------------------------------------------------------------- scenarios/transaction.ts

/** How a producer's TransactionChecker answers for a message (from its `resolve` user property). */
export type CheckerAnswer = 'COMMIT' | 'ROLLBACK';

export interface TransactionInput {
  readonly connection: Connection;
  readonly topic: string;
  readonly group: string;
  /** Sent in a transaction the application commits. */
  readonly committed: MessageSpec;
  /** Sent in a transaction the application rolls back. */
  readonly rolledBack: MessageSpec;
  /**
   * Sent in transactions the application never resolves, by producer A, which stays connected: its
   * checker answers with the message's `resolve` user property (a CheckerAnswer).
   */
  readonly orphansOfLiveSender: readonly MessageSpec[];
  /**
   * Sent, never resolved, by producer A2, which shuts down right after: producer B (same topic,
   * checker answering COMMIT) is the one left to ask.
   */
  readonly orphanOfGoneSender: MessageSpec;
  /** How many messages the consumer should end up with, and how long to wait for them. */
  readonly expectCount: number;
  readonly timeoutMs: number;
  /** Keep polling this long after `expectCount` (rolled-back messages must not show up). */
  readonly settleMs: number;
}

export interface CheckerCall {
  /** Which producer's checker ran: A (the live sender), B (another producer of the topic), A2. */
  readonly producer: 'A' | 'A2' | 'B';
  readonly message: ObservedMessage;
  readonly answer: CheckerAnswer;
}

export interface TransactionResult extends ReceiveLoopResult {
  readonly committed: ObservedReceipt;
  readonly rolledBack: ObservedReceipt;
  readonly orphansOfLiveSender: ObservedReceipt[];
  readonly orphanOfGoneSender: ObservedReceipt;
  /** When the application's commit() and rollback() resolved. */
  readonly committedAt: number;
  readonly rolledBackAt: number;
  readonly checks: CheckerCall[];
  /** When the last send ended. */
  readonly sentAt: number;
}

// -------------------------------------------------------------------- scenarios/simple-lease.ts

export interface SimpleLeaseInput extends SubscriptionInput {
  /** Acked at once (then acked a second time with the same handle). */
  readonly acked: MessageSpec;
  /** Its invisibility changed to `changeToMs` at once; acked when it comes back. */
  readonly changed: MessageSpec;
  readonly changeToMs: number;
  /** Neither acked nor changed: comes back when its lease expires; acked then. */
  readonly expired: MessageSpec;
  /** The lease of every receive(). */
  readonly invisibleDurationMs: number;
  readonly timeoutMs: number;
  /** Keep polling this long once everything came back (nothing more must arrive). */
  readonly settleMs: number;
}

/** What the application did with a delivery, and what the client answered. */
export interface LeaseAction {
  readonly action: 'ack' | 'second-ack' | 'change' | 'ack-with-pre-change-handle';
  readonly messageId: string;
  /** When the call was made and when it returned. */
  readonly startedAt: number;
  readonly at: number;
  /** null: the call succeeded. */
  readonly error: ObservedError | null;
}

export interface SimpleLeaseResult {
  readonly receipts: { acked: ObservedReceipt; changed: ObservedReceipt; expired: ObservedReceipt };
  readonly deliveries: ObservedMessage[];
  readonly actions: LeaseAction[];
  readonly polls: PollRecord[];
}

// -------------------------------------------------------------------- scenarios/push-consume.ts

/**
 * User property telling the scenario's listener to fail a message: a number n = FAILURE on its first
 * n consumptions, `always` = on every one.
 */
export const FAIL_TIMES_PROPERTY = 'compat-fail-times';

export interface PushConsumeInput {
  readonly connection: Connection;
  readonly topic: string;
  readonly group: string;
  /** TAG expression. Default `*`. */
  readonly filter?: string;
  /** Sent once the consumer is up (send-all.ts order). */
  readonly messages: readonly MessageSpec[];
  readonly sendConcurrency?: number;
  /** Done when this many distinct messages were consumed successfully… */
  readonly expectSuccesses: number;
  /** …and the listener returned FAILURE this many times in all. Default 0. */
  readonly expectFailures?: number;
  /** Then keep consuming this long (extras, duplicates; lets the last acks go out). */
  readonly settleMs: number;
  readonly timeoutMs: number;
  /** Then read `%DLQ%<group>` with a SimpleConsumer of this group, expecting this many messages. */
  readonly deadLetters?: {
    readonly readerGroup: string;
    readonly expectCount: number;
    readonly timeoutMs: number;
  };
}

export interface ConsumeCall {
  /** Order of the listener's invocations, from 0. */
  readonly seq: number;
  readonly message: ObservedMessage;
  readonly result: 'SUCCESS' | 'FAILURE';
}

export interface PushConsumeResult extends SentMessages {
  readonly calls: ConsumeCall[];
  /** What the SimpleConsumer found in `%DLQ%<group>`, when asked. */
  readonly deadLetters?: ReceiveLoopResult;
}

// --------------------------------------------------------------------- scenarios/auth-probe.ts

/** The steps of an auth probe, in order; a probe stops at its first failing step. */
export type ProbeStep = 'producer-startup' | 'send' | 'consumer-startup' | 'receive' | 'ack';

export interface AuthProbe {
  readonly name: string;
  readonly credentials?: Connection['credentials'];
  /** The producer is started with this topic; `sendTopic` (default the same) is sent to. */
  readonly topic: string;
  readonly sendTopic?: string;
  readonly group: string;
  readonly message: MessageSpec;
}

export interface AuthProbeInput {
  readonly endpoint: string;
  /** Run at once, each with its own clients. */
  readonly probes: readonly AuthProbe[];
  /** For the receive step. */
  readonly receiveTimeoutMs: number;
}

export interface AuthProbeOutcome {
  readonly name: string;
  readonly completed: ProbeStep[];
  readonly failure: { readonly step: ProbeStep; readonly error: ObservedError } | null;
  readonly receipt: ObservedReceipt | null;
  readonly received: ObservedMessage | null;
}

export interface AuthProbeResult {
  readonly outcomes: AuthProbeOutcome[];
}
