/**
 * How payloads become message bodies and back. The default codec sends a Buffer as it is, a string
 * as UTF-8 and anything else as JSON, and says which in the `content-type` user property so that
 * the receiving side gives the handler what was sent. Messages without that property (sent by other
 * clients) are read as JSON when they parse, else as a UTF-8 string.
 *
 * A codec of your own (protobuf, Avro, MessagePack…) goes in the module options (`codec`) or a
 * listener's options; it sees the whole received message, so it can dispatch on any property.
 */
import type { ReceivedMessageView } from '../../client/index.js';

/** The user property naming how a body is encoded. */
export const CONTENT_TYPE_PROPERTY = 'content-type';

export const ContentType = Object.freeze({
  JSON: 'application/json',
  TEXT: 'text/plain; charset=utf-8',
  BYTES: 'application/octet-stream',
} as const);

/** A payload encoded for sending: the body, and properties to send with it. */
export interface EncodedPayload {
  readonly body: Buffer;
  readonly properties: Readonly<Record<string, string>>;
}

export interface PayloadSerializer {
  serialize(payload: unknown): EncodedPayload;
}

export interface PayloadDeserializer {
  /** @throws PayloadDecodeError when the body cannot be what its properties say */
  deserialize(message: ReceivedMessageView): unknown;
}

export type PayloadCodec = PayloadSerializer & PayloadDeserializer;

/** A body that cannot be decoded: a poison message, retried and then dead-lettered, never acked unseen. */
export class PayloadDecodeError extends Error {
  constructor(
    readonly messageId: string,
    reason: string,
  ) {
    super(`message ${messageId} cannot be decoded: ${reason}`);
    this.name = 'PayloadDecodeError';
  }
}

/** Buffer passthrough, string as UTF-8, everything else JSON. */
export class JsonPayloadCodec implements PayloadCodec {
  serialize(payload: unknown): EncodedPayload {
    if (Buffer.isBuffer(payload)) return encoded(payload, ContentType.BYTES);
    if (payload instanceof Uint8Array) {
      return encoded(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), ContentType.BYTES);
    }
    if (typeof payload === 'string') return encoded(Buffer.from(payload, 'utf8'), ContentType.TEXT);
    // `undefined` has no JSON form; `null` is what a handler that sends "nothing" means.
    const json = JSON.stringify(payload === undefined ? null : payload);
    return encoded(Buffer.from(json, 'utf8'), ContentType.JSON);
  }

  deserialize(message: ReceivedMessageView): unknown {
    const contentType = message.properties[CONTENT_TYPE_PROPERTY];
    if (contentType === ContentType.BYTES) return message.body;
    if (contentType === ContentType.TEXT) return message.body.toString('utf8');
    const text = message.body.toString('utf8');
    if (contentType === ContentType.JSON) {
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new PayloadDecodeError(message.messageId, `invalid JSON (${(err as Error).message})`);
      }
    }
    // A body from a producer that did not say: JSON when it is, else the text.
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}

function encoded(body: Buffer, contentType: string): EncodedPayload {
  return { body, properties: { [CONTENT_TYPE_PROPERTY]: contentType } };
}
