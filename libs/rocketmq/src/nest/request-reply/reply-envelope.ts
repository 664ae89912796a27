/**
 * The request-reply convention on the wire (see reply-properties.ts): the properties a request
 * carries, how a responder reads where to answer, and how an answer (a value, or an error) becomes
 * a reply and back. One file for both ends, so that they cannot drift apart.
 */
import { type ReceivedMessageView } from '../../client/index.js';
import {
  CONTENT_TYPE_PROPERTY,
  ContentType,
  type EncodedPayload,
  type PayloadCodec,
} from '../serialization/payload-codec.js';
import { RemoteHandlerError, type RemoteErrorBody } from './reply-errors.js';
import {
  CORRELATION_ID_PROPERTY,
  REPLY_ERROR_PROPERTY,
  REPLY_TO_CLIENT_PROPERTY,
  REPLY_TOPIC_PROPERTY,
  REQUEST_DEADLINE_PROPERTY,
} from './reply-properties.js';

/** Longest error message a reply carries (characters); the rest is cut, the reply stays small. */
export const MAX_REPLY_ERROR_MESSAGE_LENGTH = 4_096;

/** What `REPLY_ERROR` is set to on an error reply (any non-empty value counts). */
const REPLY_ERROR_FLAG = '1';

const EMPTY_VALUE_REPLY: EncodedPayload = Object.freeze({
  body: Buffer.from('""', 'utf8'),
  properties: Object.freeze({ [CONTENT_TYPE_PROPERTY]: ContentType.JSON }),
});

/** Where and to whom a request is answered. */
export interface ReplyAddress {
  readonly correlationId: string;
  readonly replyTopic: string;
  /** The requester's id: the reply's tag. */
  readonly replyToClient: string;
  /** Epoch ms after which nobody waits; undefined when the request did not say. */
  readonly deadline: number | undefined;
}

/** The outcome of a handler, or of a request as the requester learns it. */
export type ReplyOutcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** The properties that make a message a request. */
export function requestProperties(address: ReplyAddress): Record<string, string> {
  return {
    [CORRELATION_ID_PROPERTY]: address.correlationId,
    [REPLY_TOPIC_PROPERTY]: address.replyTopic,
    [REPLY_TO_CLIENT_PROPERTY]: address.replyToClient,
    ...(address.deadline === undefined ? {} : { [REQUEST_DEADLINE_PROPERTY]: String(address.deadline) }),
  };
}

/** Where to answer `message`; undefined when it is not a request (an event). */
export function replyAddressOf(message: ReceivedMessageView): ReplyAddress | undefined {
  const properties = message.properties;
  const correlationId = properties[CORRELATION_ID_PROPERTY];
  const replyTopic = properties[REPLY_TOPIC_PROPERTY];
  const replyToClient = properties[REPLY_TO_CLIENT_PROPERTY];
  if (!correlationId || !replyTopic || !replyToClient) return undefined;
  const deadlineText = properties[REQUEST_DEADLINE_PROPERTY];
  const deadline = deadlineText === undefined ? Number.NaN : Number(deadlineText);
  return {
    correlationId,
    replyTopic,
    replyToClient,
    deadline: Number.isFinite(deadline) ? deadline : undefined,
  };
}

/** Whether nobody waits for the answer any more. */
export function isExpired(address: ReplyAddress, now: number = Date.now()): boolean {
  return address.deadline !== undefined && now > address.deadline;
}

/** The body and properties of a reply: the value through the codec, or the error as JSON. */
export function encodeReply(outcome: ReplyOutcome, codec: PayloadCodec): EncodedPayload {
  if (outcome.ok) {
    const encoded = codec.serialize(outcome.value);
    // RocketMQ refuses an empty body (MESSAGE_BODY_EMPTY): an empty string or buffer is answered
    // as the JSON string "" (the requester receives '').
    return encoded.body.length > 0 ? encoded : EMPTY_VALUE_REPLY;
  }
  return {
    body: Buffer.from(JSON.stringify(remoteErrorBodyOf(outcome.error)), 'utf8'),
    properties: { [CONTENT_TYPE_PROPERTY]: ContentType.JSON, [REPLY_ERROR_PROPERTY]: REPLY_ERROR_FLAG },
  };
}

/**
 * What a reply says: the value (through the codec), or a RemoteHandlerError for an error reply.
 * @throws PayloadDecodeError when the value's body cannot be decoded (the codec's error)
 */
export function decodeReply(reply: ReceivedMessageView, codec: PayloadCodec): ReplyOutcome {
  const correlationId = reply.properties[CORRELATION_ID_PROPERTY] ?? '';
  if (!reply.properties[REPLY_ERROR_PROPERTY]) return { ok: true, value: codec.deserialize(reply) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body.toString('utf8'));
  } catch {
    parsed = reply.body.toString('utf8');
  }
  return { ok: false, error: new RemoteHandlerError(correlationId, remoteErrorBodyOf(parsed)) };
}

/**
 * `{ message, name, status? }` of whatever a handler failed with: an Error (an HttpException's
 * status and response message kept), the object Nest's exception filters throw (`{ status: 'error', message }`, or an
 * RpcException's error), or a string. Messages that are lists (ValidationPipe's) are joined.
 */
export function remoteErrorBodyOf(error: unknown): RemoteErrorBody {
  if (typeof error === 'string') return { message: cut(error), name: 'Error' };
  if (typeof error !== 'object' || error === null) return { message: cut(String(error)), name: 'Error' };
  const record = error as Record<string, unknown>;
  const name =
    typeof record['name'] === 'string' && record['name'] !== ''
      ? record['name']
      : error instanceof Error
        ? error.constructor.name
        : 'Error';
  const status = statusOf(error);
  return {
    message: cut(messageText(responseMessageOf(error) ?? record['message'], error)),
    name,
    ...(status === undefined ? {} : { status }),
  };
}

/** An HttpException's own message (ValidationPipe puts its list there), when it has one. */
function responseMessageOf(error: object): unknown {
  const getResponse = (error as { getResponse?: unknown }).getResponse;
  if (typeof getResponse !== 'function') return undefined;
  const response: unknown = getResponse.call(error);
  if (typeof response === 'string') return response;
  if (typeof response === 'object' && response !== null) return (response as { message?: unknown }).message;
  return undefined;
}

function statusOf(error: object): string | number | undefined {
  const getStatus = (error as { getStatus?: unknown }).getStatus;
  if (typeof getStatus === 'function') {
    const status: unknown = getStatus.call(error);
    if (typeof status === 'number') return status;
  }
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' || typeof status === 'string' ? status : undefined;
}

function messageText(message: unknown, whole: object): string {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map((m) => (typeof m === 'string' ? m : json(m))).join('; ');
  if (message !== undefined) return json(message);
  return json(whole);
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function cut(text: string): string {
  return text.length <= MAX_REPLY_ERROR_MESSAGE_LENGTH
    ? text
    : `${text.slice(0, MAX_REPLY_ERROR_MESSAGE_LENGTH)}…`;
}
