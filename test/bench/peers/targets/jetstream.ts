/**
 * NATS JetStream through `nats` as PERFORMANCE.md (c) sets it: a file stream, R1, one subject per
 * stream; `js.publish` resolved by its PubAck (checked: this stream, not a duplicate) with the
 * bench's window of acks in flight; a durable pull consumer with AckExplicit, `consume({max_messages:
 * 256})`, each message acked after the handler. Publisher and consumer on connections of their own.
 * The durability class is the server's (`sync_interval`), chosen by the harness.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { CONSUMER_PREFETCH, type BenchQueue, type BenchTarget } from '../target.js';

const DURABLE = 'bench';
/**
 * How long a publish waits for its PubAck (the client's default is a few seconds). The other
 * clients wait for their confirms without a bound; an open-loop run that outpaces the server
 * must show up as latency, not as a failed publish.
 */
export const PUBLISH_ACK_TIMEOUT_MS = 120_000;

export async function jetstreamTarget(servers: string): Promise<BenchTarget> {
  const publisherConnection: NatsConnection = await connect({ servers });
  const consumerConnection: NatsConnection = await connect({ servers });
  const manager: JetStreamManager = await publisherConnection.jetstreamManager();
  const js: JetStreamClient = publisherConnection.jetstream();
  const consumerJs: JetStreamClient = consumerConnection.jetstream();
  return {
    async openQueue(stream: string): Promise<BenchQueue> {
      const info = await manager.streams.add({
        name: stream,
        subjects: [stream],
        storage: StorageType.File,
        num_replicas: 1,
      });
      if (info.config.storage !== StorageType.File || info.config.num_replicas !== 1) {
        throw new Error(
          `stream ${stream} is not a file stream of one replica: ${JSON.stringify(info.config)}`,
        );
      }
      let messages: ConsumerMessages | undefined;
      let loop: Promise<void> | undefined;
      return {
        async publish(body) {
          const ack = await js.publish(stream, body, { timeout: PUBLISH_ACK_TIMEOUT_MS });
          if (ack.stream !== stream || ack.duplicate) {
            throw new Error(`unexpected PubAck ${JSON.stringify(ack)}`);
          }
        },
        async consume(onMessage) {
          await manager.consumers.add(stream, {
            durable_name: DURABLE,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
          });
          const consumer = await consumerJs.consumers.get(stream, DURABLE);
          const iterator = await consumer.consume({ max_messages: CONSUMER_PREFETCH });
          messages = iterator;
          loop = (async () => {
            for await (const m of iterator) {
              onMessage(m.data);
              m.ack();
            }
          })();
        },
        async stopConsuming() {
          if (!messages) return;
          await messages.close();
          await loop;
          messages = undefined;
          // Acks are fire-and-forget publishes: flush them before the consumer is gone.
          await consumerConnection.flush();
        },
        async depth() {
          return (await manager.streams.info(stream)).state.messages;
        },
        async remove() {
          await manager.streams.delete(stream);
        },
      };
    },
    async close() {
      await publisherConnection.drain();
      await consumerConnection.drain();
    },
  };
}
