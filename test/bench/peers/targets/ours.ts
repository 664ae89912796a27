/**
 * The built-in broker through our client: per queue a Producer (batching on, its defaults) and a
 * Consumer with `maxInFlight` = the bench's prefetch; the Consumer acknowledges each message after
 * the handler returned (batched AckMessage calls). A queue is a topic the broker auto-creates (8
 * queues) when the producer routes it at start, before anything is timed, as the other systems
 * declare theirs. The durability class is the broker process's BROKER_FLUSH, set by the harness.
 */
import { Consumer, Producer, silentLogger } from '@rocketnest/rocketmq';
import { CONSUMER_PREFETCH, type BenchQueue, type BenchTarget } from '../target.js';

export function oursTarget(endpoint: string): Promise<BenchTarget> {
  return Promise.resolve({
    async openQueue(topic: string): Promise<BenchQueue> {
      const producer = await Producer.start({ endpoints: endpoint, logger: silentLogger, topics: [topic] });
      let consumer: Consumer | undefined;
      return {
        async publish(body) {
          await producer.send({ topic, body });
        },
        async consume(onMessage) {
          consumer = await Consumer.start({
            client: { endpoints: endpoint, logger: silentLogger },
            group: `GID_${topic}`,
            subscriptions: [{ topic }],
            maxInFlight: CONSUMER_PREFETCH,
            handler: (message) => onMessage(message.body),
          });
        },
        async stopConsuming() {
          await consumer?.close();
          consumer = undefined;
        },
        depth: () => Promise.resolve(undefined),
        async remove() {
          await consumer?.close();
          await producer.close();
        },
      };
    },
    close: () => Promise.resolve(),
  });
}
