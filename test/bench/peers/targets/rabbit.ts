/**
 * RabbitMQ through `amqplib` as PERFORMANCE.md (c) sets it: a durable queue (classic or quorum,
 * `x-queue-type`), persistent messages (delivery mode 2) on a ConfirmChannel with each publish
 * resolved by its own broker confirm (a nack rejects), and a consumer on its own connection with
 * `prefetch(256)` and manual acks, `multiple` every 64 (the tail acked by a short timer).
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { CONSUMER_PREFETCH, type BenchQueue, type BenchTarget } from '../target.js';

/** Deliveries acknowledged together with one `multiple` ack. */
export const ACK_EVERY = 64;
/** A partial batch of acks is sent after this long without reaching ACK_EVERY. */
const ACK_FLUSH_MS = 5;

export async function rabbitTarget(url: string, queueType: 'classic' | 'quorum'): Promise<BenchTarget> {
  // Publisher and consumer on connections of their own, as two applications would be.
  const publisherConnection = await connect(url);
  const consumerConnection = await connect(url);
  const publisher: ConfirmChannel = await publisherConnection.createConfirmChannel();
  return {
    async openQueue(queue: string): Promise<BenchQueue> {
      await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': queueType } });
      let consumer: { channel: Channel; tag: string; flush: () => void } | undefined;
      return {
        publish(body) {
          return new Promise<void>((resolve, reject) => {
            publisher.sendToQueue(queue, body, { persistent: true }, (err) =>
              err ? reject(err instanceof Error ? err : new Error(`nacked: ${String(err)}`)) : resolve(),
            );
          });
        },
        async consume(onMessage) {
          const channel = await consumerConnection.createChannel();
          await channel.prefetch(CONSUMER_PREFETCH);
          let unacked = 0;
          let last: Parameters<Channel['ack']>[0] | undefined;
          let timer: NodeJS.Timeout | undefined;
          const flush = (): void => {
            if (timer) clearTimeout(timer);
            timer = undefined;
            if (last && unacked > 0) channel.ack(last, true);
            unacked = 0;
            last = undefined;
          };
          const { consumerTag } = await channel.consume(
            queue,
            (message) => {
              if (message === null) return; // cancelled by the server
              onMessage(message.content);
              last = message;
              if (++unacked >= ACK_EVERY) flush();
              else timer ??= setTimeout(flush, ACK_FLUSH_MS);
            },
            { noAck: false },
          );
          consumer = { channel, tag: consumerTag, flush };
        },
        async stopConsuming() {
          if (!consumer) return;
          const { channel, tag, flush } = consumer;
          consumer = undefined;
          await channel.cancel(tag);
          flush();
          await channel.close();
        },
        async depth() {
          return (await publisher.checkQueue(queue)).messageCount;
        },
        async remove() {
          await publisher.deleteQueue(queue);
        },
      };
    },
    async close() {
      await publisherConnection.close();
      await consumerConnection.close();
    },
  };
}

/** The broker's version, from the connection's server properties. */
export function rabbitVersionOf(connection: ChannelModel): string {
  const version = connection.connection.serverProperties.version;
  return typeof version === 'string' ? version : 'unknown';
}
