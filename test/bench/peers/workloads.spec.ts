import { memoryQueue } from './memory-queue.js';
import { decodePayload, encodePayload } from './payload.js';
import { runWorkload, type WorkloadEnv } from './workloads.js';

const env: WorkloadEnv = { bodyBytes: 1024, consumeTimeoutMs: 500 };

describe('bench workloads', () => {
  it('W1 reports every publish confirmed, with confirm latencies', async () => {
    const queue = memoryQueue();
    const m = await runWorkload(queue, { id: 'W1', messages: 500 }, env);
    expect(queue.published).toBe(500);
    expect(m).toMatchObject({ id: 'W1', messages: 500, window: 256, latency: 'confirm', consumed: null });
    expect(m.msgsPerSecond).toBeGreaterThan(0);
    expect(m.p99Ms).toBeGreaterThanOrEqual(m.p50Ms!);
  });

  it('W2, W3 and W4 see every message once and report end-to-end numbers', async () => {
    for (const id of ['W2', 'W3_10k', 'W4'] as const) {
      const m = await runWorkload(memoryQueue(), { id, messages: 300 }, env);
      expect(m).toMatchObject({ id, consumed: 300, deliveries: 300 });
      expect(m.msgsPerSecond).toBeGreaterThan(0);
    }
  });

  it('W5 keeps one publish in flight', async () => {
    const m = await runWorkload(memoryQueue(), { id: 'W5', messages: 50 }, env);
    expect(m.window).toBe(1);
  });

  it('fails when a message never reaches the consumer, naming how many did', async () => {
    await expect(
      runWorkload(memoryQueue({ drop: new Set([7]) }), { id: 'W2', messages: 100 }, env),
    ).rejects.toThrow(/99\/100 distinct messages/);
  });

  it('fails when a body arrives damaged', async () => {
    await expect(
      runWorkload(memoryQueue({ truncate: new Set([3]) }), { id: 'W4', messages: 20 }, env),
    ).rejects.toThrow(/19\/20 distinct messages \(20 deliveries, 1 foreign\)/);
  });

  it('fails when the queue holds more or fewer messages than were confirmed', async () => {
    await expect(
      runWorkload(memoryQueue({ extraDepth: 1 }), { id: 'W1', messages: 10 }, env),
    ).rejects.toThrow('the queue holds 11 messages after 10 confirmed publishes');
  });

  it('fails when the system refuses a publish', async () => {
    await expect(runWorkload(memoryQueue({ refuse: 4 }), { id: 'W1', messages: 10 }, env)).rejects.toThrow(
      'publish 4 refused',
    );
    await expect(runWorkload(memoryQueue({ refuse: 4 }), { id: 'W3_1k', messages: 10 }, env)).rejects.toThrow(
      'publish 4 refused',
    );
  });
});

describe('bench payload', () => {
  it('carries the index and send time through a body of the bench size', () => {
    expect(decodePayload(encodePayload(42, 1234.5, 1024), 1024)).toEqual({ index: 42, sentAtMs: 1234.5 });
  });

  it('refuses bodies of another size or with another tail', () => {
    const body = encodePayload(1, 2, 1024);
    expect(decodePayload(body.subarray(0, 1000), 1024)).toBeUndefined();
    const altered = Buffer.from(body);
    altered[1023] = 0;
    expect(decodePayload(altered, 1024)).toBeUndefined();
  });
});
