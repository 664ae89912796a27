/**
 * Direct protobufjs encoders and decoders for the few messages that cross the wire once per
 * delivered or sent message (the hot path), loaded from the same official protos as `proto.ts`.
 *
 * Why not the proto loader's serializers there: they convert every object in full on the way
 * (`fromObject` before encoding, `toObject` with every default after decoding), which costs more
 * than the encoding itself for a 1 KiB message. Here:
 * - `encoderOf` encodes a plain object as this code base builds it (snake_case fields, numbers
 *   for int64 and enums, Buffers for bytes) without the copy. The bytes are the same: the
 *   loader's serializer ends in the same `Type.encode`. Only for objects our own code builds;
 *   a value of the wrong JS type would not be coerced as `fromObject` would.
 * - `decoderOf` decodes a response without int64 fields to protobufjs's message objects.
 * - `decodeReceiveFrame` decodes a ReceiveMessage answer frame to protobufjs's message objects
 *   (defaults on their prototypes, absent messages null, as the loader's `defaults: true` gives
 *   them) and turns the int64 fields a delivery has into numbers (PROTO_LOADER_OPTIONS: `longs:
 *   Number`), instead of copying every field of every frame.
 */
import protobuf from 'protobufjs';
import { officialProtoRoot } from './proto.js';
import { type Message, type ReceiveMessageResponse } from './proto-types.js';

const PACKAGE = 'apache.rocketmq.v2';

let root: protobuf.Root | undefined;

/** The official protos as a protobufjs Root (field names as in the .proto), loaded once. */
function protoRoot(): protobuf.Root {
  if (!root) {
    const includeDir = officialProtoRoot();
    const loaded = new protobuf.Root();
    loaded.resolvePath = (_origin, target) => `${includeDir}/${target}`;
    loaded.loadSync('apache/rocketmq/v2/service.proto', { keepCase: true });
    loaded.resolveAll();
    root = loaded;
  }
  return root;
}

function typeOf(name: string): protobuf.Type {
  return protoRoot().lookupType(`${PACKAGE}.${name}`);
}

/** An encoder of `apache.rocketmq.v2.<name>` for plain objects built by this code base. */
export function encoderOf<T extends object>(name: string): (value: T) => Buffer {
  const type = typeOf(name);
  return (value) => type.encode(value).finish() as Buffer;
}

/**
 * A decoder of `apache.rocketmq.v2.<name>` to protobufjs's message objects, for a response read
 * once per message (an ack's entries) whose fields are strings, enums and messages only: no
 * int64 to convert. Absent messages read as null, as the loader's `defaults: true` gives them.
 */
export function decoderOf<T>(name: string): (bytes: Uint8Array) => T {
  const type = typeOf(name);
  return (bytes) => type.decode(bytes) as unknown as T;
}

let receiveFrameEncoder: ((frame: ReceiveMessageResponse) => Buffer) | undefined;

/** The encoder of ReceiveMessage answer frames: the server writes and measures frames with it. */
export function encodeReceiveFrame(frame: ReceiveMessageResponse): Buffer {
  receiveFrameEncoder ??= encoderOf<ReceiveMessageResponse>('ReceiveMessageResponse');
  return receiveFrameEncoder(frame);
}

/** A protobufjs int64 as it decodes: a number, or a Long when the `long` package is there. */
type Int64 = number | { toNumber(): number } | null | undefined;

const toNumber = (value: Int64): number | null | undefined =>
  value === null || value === undefined || typeof value === 'number' ? value : value.toNumber();

interface SecondsAndNanos {
  seconds: Int64;
}

let receiveResponse: protobuf.Type | undefined;

/** One frame of a ReceiveMessage answer (see the file comment). @throws Error on malformed bytes */
export function decodeReceiveFrame(bytes: Uint8Array): ReceiveMessageResponse {
  receiveResponse ??= typeOf('ReceiveMessageResponse');
  const frame = receiveResponse.decode(bytes) as unknown as ReceiveMessageResponse;
  if (frame.message) numbersOfMessage(frame.message);
  if (frame.delivery_timestamp) secondsToNumber(frame.delivery_timestamp);
  return frame;
}

/** The system properties of a delivery that are Timestamps or Durations (int64 seconds). */
const TIME_FIELDS = [
  'born_timestamp',
  'store_timestamp',
  'delivery_timestamp',
  'invisible_duration',
] as const;

function numbersOfMessage(message: Message): void {
  const system = message.system_properties as
    (Record<string, unknown> & { queue_offset?: Int64 }) | null | undefined;
  if (!system) return;
  system.queue_offset = toNumber(system.queue_offset);
  for (const field of TIME_FIELDS) {
    const value = system[field];
    if (value !== null && value !== undefined) secondsToNumber(value as SecondsAndNanos);
  }
}

function secondsToNumber(value: object): void {
  const time = value as SecondsAndNanos;
  time.seconds = toNumber(time.seconds);
}
