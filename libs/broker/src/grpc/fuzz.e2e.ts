/**
 * Garbage never crashes the server (RELIABILITY.md §(c) 9): fast-check builds requests of every
 * unary RPC from hostile field values (and raw random bytes), and every answer must be a status with
 * a defined, non-zero code that is not an unexpected INTERNAL_ERROR. A canary send afterwards proves
 * the server is still serving.
 */
import { type Metadata, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { StatusCode } from '../status-code.js';
import { messagingServiceDefinition, MESSAGING_SERVICE_NAME } from './proto.js';
import { type Status } from './proto-types.js';
import { clientMetadata, protoMessage, startHarness, type GrpcHarness } from './testing/grpc-harness.js';

const KNOWN_CODES = new Set<number>(Object.values(StatusCode));
const SEED = 20_250_630;

const str = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.constantFrom(
    '',
    ' ',
    'orders',
    'TBW102',
    '%DLQ%g',
    '%RETRY%g_orders',
    'a|b',
    'ns%orders',
    '\u0000',
    '\u0085',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constant('x'.repeat(300)),
);
const i32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });
const i64 = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const resource = maybe(fc.record({ name: str, resource_namespace: fc.oneof(fc.constant(''), str) }));
const time = fc.record({ seconds: i64, nanos: i32 });
const enumValue = (max: number) => fc.integer({ min: 0, max });

const systemProperties = fc.record(
  {
    tag: maybe(str),
    keys: fc.array(str, { maxLength: 3 }),
    message_id: str,
    body_encoding: enumValue(3),
    message_type: enumValue(7),
    born_timestamp: maybe(time),
    delivery_timestamp: maybe(time),
    message_group: maybe(str),
    orphaned_transaction_recovery_duration: maybe(time),
    body_digest: maybe(fc.record({ type: enumValue(4), checksum: str })),
    queue_id: i32,
  },
  { requiredKeys: [] },
);
const message = fc.record(
  {
    topic: resource,
    user_properties: fc.dictionary(str, str, { maxKeys: 5 }),
    system_properties: maybe(systemProperties),
    body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  },
  { requiredKeys: [] },
);

const requests: Record<string, fc.Arbitrary<object>> = {
  QueryRoute: fc.record({ topic: resource }, { requiredKeys: [] }),
  Heartbeat: fc.record({ group: resource, client_type: enumValue(7) }, { requiredKeys: [] }),
  SendMessage: fc.record({ messages: fc.array(message, { maxLength: 4 }) }),
  QueryAssignment: fc.record({ topic: resource, group: resource }, { requiredKeys: [] }),
  AckMessage: fc.record(
    {
      group: resource,
      topic: resource,
      entries: fc.array(fc.record({ message_id: str, receipt_handle: str }), { maxLength: 4 }),
    },
    { requiredKeys: [] },
  ),
  ForwardMessageToDeadLetterQueue: fc.record(
    {
      group: resource,
      topic: resource,
      receipt_handle: str,
      message_id: str,
      delivery_attempt: i32,
      max_delivery_attempts: i32,
    },
    { requiredKeys: [] },
  ),
  EndTransaction: fc.record(
    { topic: resource, message_id: str, transaction_id: str, resolution: enumValue(4), source: enumValue(4) },
    { requiredKeys: [] },
  ),
  NotifyClientTermination: fc.record({ group: resource }, { requiredKeys: [] }),
  ChangeInvisibleDuration: fc.record(
    {
      group: resource,
      topic: resource,
      receipt_handle: str,
      invisible_duration: maybe(time),
      message_id: str,
    },
    { requiredKeys: [] },
  ),
  UpdateOffset: fc.constant({}),
  RecallMessage: fc.record({ topic: resource, recall_handle: str }),
};

const headers = fc.record(
  {
    // Header values are printable ASCII (grpc-js refuses anything else before sending).
    clientId: fc.oneof(fc.constant(undefined), fc.constant(null), fc.stringMatching(/^[\x20-\x7e]{0,300}$/)),
    namespace: fc.constantFrom(undefined, 'tenant', 'bad ns', 'a%b'),
  },
  { requiredKeys: [] },
);

describe('fuzzed requests', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const expectDefinedStatus = (rpc: string, status: Status | undefined): void => {
    expect({ rpc, known: KNOWN_CODES.has(status?.code ?? 0) }).toEqual({ rpc, known: true });
    expect(status!.code).not.toBe(StatusCode.INTERNAL_ERROR);
  };

  it('every unary RPC answers hostile field values with a defined status code', async () => {
    const rpcAndRequest = fc.oneof(
      ...Object.entries(requests).map(([rpc, arb]) => fc.tuple(fc.constant(rpc), arb, headers)),
    );
    await fc.assert(
      fc.asyncProperty(rpcAndRequest, async ([rpc, request, header]) => {
        const clientId = header.clientId === null ? null : (header.clientId ?? undefined);
        const response = await h.call<{ status?: Status }>(rpc, request, {
          ...(clientId === undefined ? {} : { clientId: clientId === '' ? null : clientId }),
          ...(header.namespace === undefined ? {} : { namespace: header.namespace }),
        });
        expectDefinedStatus(rpc, response.status);
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(h.logger.errors()).toEqual([]);
  });

  it('random bytes in place of a request never take the server down', async () => {
    const definition = messagingServiceDefinition();
    const unaryRpcs = Object.keys(requests);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...unaryRpcs),
        fc.uint8Array({ maxLength: 256 }),
        async (rpc, bytes) => {
          const outcome = await rawCall(
            h,
            `/${MESSAGING_SERVICE_NAME}/${rpc}`,
            Buffer.from(bytes),
            clientMetadata(),
          );
          if ('response' in outcome) {
            const decoded = definition[rpc]!.responseDeserialize(outcome.response) as { status?: Status };
            expectDefinedStatus(rpc, decoded.status);
          } else {
            // Bytes that are no valid protobuf message are refused by grpc-js itself.
            expect(typeof outcome.error.code).toBe('number');
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    const canary = await h.call<{ status?: Status }>('SendMessage', {
      messages: [protoMessage({ topic: 'canary' })],
    });
    expect(canary.status!.code).toBe(StatusCode.OK);
  });
});

function rawCall(
  h: GrpcHarness,
  path: string,
  bytes: Buffer,
  metadata: Metadata,
): Promise<{ response: Buffer } | { error: ServiceError }> {
  return new Promise((resolve) => {
    h.client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      metadata,
      { deadline: Date.now() + 5_000 },
      (err, res) => resolve(err ? { error: err } : { response: res as Buffer }),
    );
  });
}
