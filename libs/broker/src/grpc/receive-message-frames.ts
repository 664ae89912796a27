/**
 * The frames of a ReceiveMessage answer, in the Java proxy's order (PROTOCOL.md §2):
 * - found: `{status OK}`, one `{message}` per message, `{delivery_timestamp}`;
 * - none: `{status MESSAGE_NOT_FOUND}`, `{delivery_timestamp}`;
 * - error: a single `{status}`.
 *
 * Size: the official client's grpc-js refuses inbound messages over 4 MiB (PROTOCOL.md §3), so one
 * answer keeps all its frames within `RECEIVE_RESPONSE_MAX_BYTES`: from the first message that would go
 * beyond, the rest of the batch is left out (the caller hands their leases back: a later receive
 * delivers them, no attempt counted; stopping at the first keeps a FIFO batch in order). A message that alone exceeds the limit (only possible when the core accepts
 * bodies near 4 MiB) can never reach the client: it is left out too, but its lease is kept, so that
 * it runs out, counts as an attempt and the message finally goes to the dead-letter queue instead
 * of blocking the queue forever.
 */
import { type ReceivedMessage } from '../core/consume/types.js';
import { StatusCode } from '../status-code.js';
import { toProtoMessage, type MessageViewOptions } from './message-view.js';
import { timestampOf } from './proto-time.js';
import { type ReceiveMessageResponse } from './proto-types.js';
import { OK_STATUS, status } from './status.js';

/** The client's grpc-js inbound limit; an answer's frames together stay within it. */
export const RECEIVE_RESPONSE_MAX_BYTES = 4 * 1024 * 1024;
/** gRPC's length prefix in front of every message on the wire. */
const GRPC_FRAME_PREFIX_BYTES = 5;

/** Serialized size of one response frame (the service's own serializer). */
export type FrameSizer = (frame: ReceiveMessageResponse) => number;

export interface DeliveryFrames {
  /** Every frame to write, in order. */
  readonly frames: ReceiveMessageResponse[];
  /** The messages the frames carry. */
  readonly delivered: ReceivedMessage[];
  /** Left out for size: hand their leases back. */
  readonly overflow: ReceivedMessage[];
  /** Left out because no answer can carry them: keep their leases (they run out). */
  readonly undeliverable: ReceivedMessage[];
}

export function notFoundFrames(now: number): ReceiveMessageResponse[] {
  return [
    { status: status(StatusCode.MESSAGE_NOT_FOUND, 'no new message') },
    { delivery_timestamp: timestampOf(now) },
  ];
}

/**
 * The frames delivering `received` (non-empty), within the size limit. When none fits, the frames
 * are those of "none found".
 * @param view how each message is shown (store host, namespace, lease length)
 */
export function deliveryFrames(
  received: readonly ReceivedMessage[],
  view: MessageViewOptions,
  now: number,
  sizeOf: FrameSizer,
  maxBytes = RECEIVE_RESPONSE_MAX_BYTES,
): DeliveryFrames {
  const head: ReceiveMessageResponse = { status: OK_STATUS };
  const tail: ReceiveMessageResponse = { delivery_timestamp: timestampOf(now) };
  let used = sizeOf(head) + sizeOf(tail) + 2 * GRPC_FRAME_PREFIX_BYTES;
  const messages: ReceiveMessageResponse[] = [];
  const delivered: ReceivedMessage[] = [];
  const overflow: ReceivedMessage[] = [];
  const undeliverable: ReceivedMessage[] = [];
  const envelope = used;
  // While the upper bounds of what was taken fit, nothing is serialized to be measured (grpc-js
  // serializes every frame anyway when it is written); from the first frame whose bound does not
  // fit on, sizes are exact, so the cut falls exactly where exact sizes alone would put it.
  let exact = false;
  for (const m of received) {
    // Once one message stays out, all later ones do: a FIFO batch is in order, and a later message
    // of a message group must never arrive before an earlier one.
    if (overflow.length > 0 || undeliverable.length > 0) {
      overflow.push(m);
      continue;
    }
    const frame: ReceiveMessageResponse = { message: toProtoMessage(m, view) };
    if (!exact) {
      const bound = encodedSizeBound(frame) + GRPC_FRAME_PREFIX_BYTES;
      if (used + bound <= maxBytes) {
        used += bound;
        messages.push(frame);
        delivered.push(m);
        continue;
      }
      exact = true;
      used = envelope;
      for (const taken of messages) used += sizeOf(taken) + GRPC_FRAME_PREFIX_BYTES;
    }
    const size = sizeOf(frame) + GRPC_FRAME_PREFIX_BYTES;
    if (envelope + size > maxBytes) {
      undeliverable.push(m);
    } else if (used + size > maxBytes) {
      overflow.push(m);
    } else {
      used += size;
      messages.push(frame);
      delivered.push(m);
    }
  }
  const frames = delivered.length > 0 ? [head, ...messages, tail] : notFoundFrames(now);
  return { frames, delivered, overflow, undeliverable };
}

/**
 * An upper bound of the protobuf size of a plain message object as the proto loader takes it: per
 * field (or map entry, or repeated element) at most 2 bytes of tag, 5 of length and, for a map
 * entry, another 12 of key and value headers, counted as 16 plus the name (a map key's bytes;
 * a field name only over-counts); strings at most 3 bytes per UTF-16 unit, varints at most 10 bytes.
 */
export function encodedSizeBound(value: unknown): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case 'string':
      return 6 + 3 * value.length;
    case 'number':
    case 'bigint':
      return 10;
    case 'boolean':
      return 1;
    case 'object':
      break;
    default:
      return 0;
  }
  if (value instanceof Uint8Array) return 6 + value.length;
  let bound = 6;
  if (Array.isArray(value)) {
    for (const element of value as unknown[]) bound += 16 + encodedSizeBound(element);
    return bound;
  }
  // for…in rather than Object.entries: no array of pairs per object, once per delivered message.
  const record = value as Record<string, unknown>;
  for (const key in record) bound += 16 + 3 * key.length + encodedSizeBound(record[key]);
  return bound;
}
