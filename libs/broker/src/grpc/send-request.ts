/**
 * One proto `Message` of a SendMessage request → the core's `SendRequest`. Only translation and the
 * checks only the wire format has (encoding, digest); every field rule (names, sizes, properties,
 * times, types) is the core's, so that both ends of the broker agree on one set of status codes.
 *
 * Decisions:
 * - Type: `message_type = TRANSACTION` makes a half message; otherwise the fields decide, as in Java
 *   (`delivery_timestamp` → DELAY, `message_group` → FIFO). Contradictions are the core's
 *   MESSAGE_PROPERTY_CONFLICT_WITH_TYPE.
 * - `body_encoding = GZIP`: the body is inflated here and stored as plain bytes (delivered as
 *   IDENTITY, its digest over the plain bytes). Inflation stops just past the broker's max body size
 *   (MESSAGE_BODY_TOO_LARGE, so a zip bomb costs nothing); a body that is not gzip is
 *   MESSAGE_CORRUPTED, as is an encoding this broker does not know.
 * - `body_digest`, when a client sends one (the official ones do not): checked against the body as
 *   sent, MESSAGE_CORRUPTED on a mismatch.
 * - `born_host`: the caller's `ip:port` as grpc-js sees it. The store keeps born hosts as an address
 *   (RocketMQ's layout), and the official client sends its host name there, which would be lost.
 * - `queue_id` is ignored: the broker picks the queue (round robin, or by message group for FIFO).
 * - `orphaned_transaction_recovery_duration` → the half's first check-back delay (≤ 1 h, else
 *   BAD_REQUEST from the core).
 */
import { promisify } from 'node:util';
import { gunzip, type InputType, type ZlibOptions } from 'node:zlib';
import { MessageBodyTooLargeError, MessageCorruptedError } from '../core/errors.js';
import { type SendRequest } from '../core/send-path.js';
import { bodyDigestOf, digestTypeName } from './body-digest.js';
import { type CallContext } from './call-context.js';
import { millisOfDuration, millisOfTimestamp } from './proto-time.js';
import { Encoding, ProtoMessageType, type Message } from './proto-types.js';

const inflate = promisify(gunzip) as (buffer: InputType, options: ZlibOptions) => Promise<Buffer>;

/** The body as stored: inflated if it was sent GZIP. */
export async function decodeBody(message: Message, maxBodySize: number): Promise<Buffer | undefined> {
  const body = message.body;
  const encoding = message.system_properties?.body_encoding ?? Encoding.UNSPECIFIED;
  if (body === undefined || body === null || body.length === 0) return body ?? undefined;
  checkDigest(message, body);
  if (encoding === Encoding.IDENTITY || encoding === Encoding.UNSPECIFIED) return body;
  if (encoding !== Encoding.GZIP) throw new MessageCorruptedError(`body encoding ${encoding} is unknown`);
  try {
    return await inflate(body, { maxOutputLength: maxBodySize + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new MessageBodyTooLargeError(maxBodySize + 1, maxBodySize);
    }
    throw new MessageCorruptedError('the body is marked GZIP but does not inflate');
  }
}

function checkDigest(message: Message, body: Buffer): void {
  const digest = message.system_properties?.body_digest;
  const expected = typeof digest?.checksum === 'string' ? digest.checksum : '';
  if (!digest || expected === '' || digest.type === undefined) return;
  const actual = bodyDigestOf(digest.type, body);
  if (actual !== undefined && actual !== expected.toUpperCase()) {
    throw new MessageCorruptedError(`the body does not match its ${digestTypeName(digest.type)} digest`);
  }
}

/** The core's view of one message (body already decoded). */
export function toSendRequest(message: Message, body: Buffer | undefined, context: CallContext): SendRequest {
  const sp = message.system_properties ?? {};
  const deliveryTimestamp = millisOfTimestamp(sp.delivery_timestamp);
  const bornTimestamp = millisOfTimestamp(sp.born_timestamp);
  const recoveryMs = millisOfDuration(sp.orphaned_transaction_recovery_duration);
  const transactional = sp.message_type === ProtoMessageType.TRANSACTION;
  return {
    topic: context.nameOf(message.topic),
    // The core answers MESSAGE_BODY_EMPTY for a missing body.
    body: body as Buffer,
    messageId: sp.message_id ?? '',
    ...(sp.tag === undefined ? {} : { tag: sp.tag }),
    ...(sp.keys && sp.keys.length > 0 ? { keys: sp.keys } : {}),
    ...(message.user_properties ? { userProperties: message.user_properties } : {}),
    ...(sp.message_group === undefined ? {} : { messageGroup: sp.message_group }),
    ...(deliveryTimestamp === undefined ? {} : { deliveryTimestamp }),
    ...(transactional ? { transaction: recoveryMs === undefined ? {} : { recoveryMs } } : {}),
    ...(bornTimestamp === undefined ? {} : { bornTimestamp }),
    ...(context.peer === '' ? {} : { bornHost: context.peer }),
  };
}
