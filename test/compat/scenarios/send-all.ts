/**
 * Sends messages the way an application with several workers would: messages of one message group
 * one after another (FIFO order is the send order), distinct groups and ungrouped messages
 * `concurrency` at a time.
 */
import { type Producer } from 'rocketmq-client-nodejs';
import { sendOne } from './official-client.js';
import { type MessageSpec, type ObservedReceipt, type SentMessages } from './scenario-types.js';

export async function sendAll(
  producer: Producer,
  topic: string,
  messages: readonly MessageSpec[],
  concurrency = 1,
): Promise<SentMessages> {
  const receipts = new Array<ObservedReceipt>(messages.length);
  const sendStartedAt = new Array<number>(messages.length);
  const sentAt = new Array<number>(messages.length);
  // One lane per message group (in send order); each ungrouped message is a lane of its own.
  const lanes = new Map<string, number[]>();
  messages.forEach((spec, index) => {
    const lane = spec.messageGroup === undefined ? `#${index}` : `group:${spec.messageGroup}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), index]);
  });
  const pending = [...lanes.values()];
  const worker = async (): Promise<void> => {
    for (let lane = pending.shift(); lane !== undefined; lane = pending.shift()) {
      for (const index of lane) {
        sendStartedAt[index] = Date.now();
        receipts[index] = await sendOne(producer, topic, messages[index]!);
        sentAt[index] = Date.now();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { receipts, sendStartedAt, sentAt };
}
