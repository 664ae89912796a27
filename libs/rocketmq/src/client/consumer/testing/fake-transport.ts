/**
 * Test support: a scripted in-memory `ConsumerTransport` for the unit tests of the consumer's parts
 * (what the server answers is whatever the test says; every request is recorded).
 */
import { createHash } from 'node:crypto';
import {
  DigestType,
  Encoding,
  type AckMessageRequest,
  type AckMessageResponse,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type Message,
  type MessageQueue,
  type ReceiveMessageRequest,
} from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import {
  type ConsumerServerSettings,
  type ConsumerSession,
  type ConsumerTransport,
  type ReceiveAnswer,
  type ReceiveCallOptions,
} from '../consumer-transport.js';

type Handler<Req, Res> = (request: Req) => Res | Promise<Res>;

const OK = { code: StatusCode.OK, message: 'OK' };

export class FakeTransport implements ConsumerTransport {
  readonly clientId = 'fake@1@1@test';
  requestTimeoutMs = 1_000;
  settings: ConsumerServerSettings = { fifo: false, receiveBatchSize: 32, longPollingTimeoutMs: 1_000 };
  queues: MessageQueue[] = [{ topic: { name: 'topic' }, id: 0, broker: { name: 'b', endpoints: null } }];
  /** Answers to ReceiveMessage, taken in order; when empty, a long poll that waits for the abort. */
  readonly receiveAnswers: (ReceiveAnswer | Error)[] = [];
  readonly receives: ReceiveMessageRequest[] = [];
  readonly receiveTimes: number[] = [];
  readonly receiveTimeouts: number[] = [];
  readonly acks: AckMessageRequest[] = [];
  readonly changes: ChangeInvisibleDurationRequest[] = [];
  readonly forwards: ForwardMessageToDeadLetterQueueRequest[] = [];
  sessionsClosed = 0;
  onAck: Handler<AckMessageRequest, AckMessageResponse> = (request) => ({
    status: OK,
    entries: (request.entries ?? []).map((e) => ({ ...e, status: OK })),
  });
  onChange: Handler<ChangeInvisibleDurationRequest, ChangeInvisibleDurationResponse> = (request) => ({
    status: OK,
    receipt_handle: `${request.receipt_handle}+`,
  });
  onForward: Handler<ForwardMessageToDeadLetterQueueRequest, ForwardMessageToDeadLetterQueueResponse> =
    () => ({
      status: OK,
    });

  async openSession(): Promise<ConsumerSession> {
    return {
      settings: () => this.settings,
      close: async () => {
        this.sessionsClosed++;
      },
    };
  }

  async queryAssignments(): Promise<readonly MessageQueue[]> {
    return this.queues;
  }

  receive(request: ReceiveMessageRequest, options: ReceiveCallOptions): Promise<ReceiveAnswer> {
    this.receives.push(request);
    this.receiveTimes.push(Date.now());
    this.receiveTimeouts.push(options.timeoutMs);
    const next = this.receiveAnswers.shift();
    if (next instanceof Error) return Promise.reject(next);
    if (next) return Promise.resolve(next);
    return new Promise((_, reject) => {
      const timer = setTimeout(() => reject(new Error('deadline')), options.timeoutMs);
      options.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('cancelled'));
      });
    });
  }

  async ackMessages(request: AckMessageRequest): Promise<AckMessageResponse> {
    this.acks.push(request);
    return this.onAck(request);
  }

  async changeInvisibleDuration(
    request: ChangeInvisibleDurationRequest,
  ): Promise<ChangeInvisibleDurationResponse> {
    this.changes.push(request);
    return this.onChange(request);
  }

  async forwardToDeadLetter(
    request: ForwardMessageToDeadLetterQueueRequest,
  ): Promise<ForwardMessageToDeadLetterQueueResponse> {
    this.forwards.push(request);
    return this.onForward(request);
  }
}

let seq = 0;

/** A delivered message as a broker sends it (MD5 digest of the body, attempt, handle). */
export function deliveredMessage(
  options: { body?: string; topic?: string; group?: string; attempt?: number; digest?: string } = {},
): Message {
  seq++;
  const body = Buffer.from(options.body ?? `body-${seq}`);
  return {
    topic: { name: options.topic ?? 'topic' },
    body,
    user_properties: {},
    system_properties: {
      message_id: `ID${seq.toString().padStart(6, '0')}`,
      receipt_handle: `handle-${seq}`,
      delivery_attempt: options.attempt ?? 1,
      body_encoding: Encoding.IDENTITY,
      body_digest: {
        type: DigestType.MD5,
        checksum: options.digest ?? createHash('md5').update(body).digest('hex').toUpperCase(),
      },
      ...(options.group === undefined ? {} : { message_group: options.group }),
    },
  };
}

export const OK_STATUS = OK;
