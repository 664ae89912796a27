import { StatusCode } from '../../status-code.js';
import { type StoredMessage } from '../../store/index.js';
import { MESSAGE_GROUP_PROPERTY } from './names.js';
import { Harness } from './testing/engine-harness.js';
import { type ReceivedMessage } from './types.js';
import { seededRandom } from '../../testing/seeded-random.js';

let h: Harness;

async function setUp(options: Parameters<typeof Harness.create>[0] = {}): Promise<void> {
  h = await Harness.create({ queueCounts: { F: 1, R: 4 }, ...options });
  Object.assign(h.policy('g'), { fifo: true, backoff: [1_000] });
}

beforeEach(async () => setUp());
afterEach(async () => {
  await h.close();
});

const INVALID = { code: StatusCode.INVALID_RECEIPT_HANDLE };

/** Sends `spec` ("a" = next message of group a, "-" = ungrouped) to topic F, queue 0. */
async function sendAll(spec: string): Promise<void> {
  const counts = new Map<string, number>();
  for (const name of spec.split(' ')) {
    const k = counts.get(name) ?? 0;
    counts.set(name, k + 1);
    await h.send('F', {
      ...(name === '-' ? {} : { messageGroup: name }),
      userProperties: { label: `${name}${k}` },
    });
  }
}

function labels(got: readonly ReceivedMessage[]): string[] {
  return got.map((m) => m.message.userProperties['label']!);
}

function byLabel(got: readonly ReceivedMessage[], label: string): ReceivedMessage {
  return got.find((m) => m.message.userProperties['label'] === label)!;
}

describe('FIFO groups', () => {
  it('hands out one message per message group at a time; other groups proceed', async () => {
    await sendAll('a a b a b c');
    const first = h.receive('g', 'F');
    expect(labels(first)).toEqual(['a0', 'b0', 'c0']);
    expect(h.receive('g', 'F')).toEqual([]);
    h.engine.ack('g', byLabel(first, 'b0').receiptHandle);
    expect(labels(h.receive('g', 'F'))).toEqual(['b1']);
    h.engine.ack('g', byLabel(first, 'a0').receiptHandle);
    const next = h.receive('g', 'F');
    expect(labels(next)).toEqual(['a1']);
    expect(h.offsets.get('g', 'F', 0)).toBe(1);
  });

  it('redelivers the head in place after its lease expires, keeping the group locked meanwhile', async () => {
    await sendAll('a a b');
    const [a0, b0] = h.receive('g', 'F');
    h.engine.ack('g', b0!.receiptHandle);
    await h.advance(30_000); // a0 expires: backoff 1 s
    expect(h.scheduler.scheduled).toHaveLength(0); // FIFO never uses the retry topic
    expect(h.receive('g', 'F')).toEqual([]); // a1 must wait for a0
    await h.advance(1_000);
    const [again] = h.receive('g', 'F');
    expect(labels([again!])).toEqual(['a0']);
    expect(again!.deliveryAttempt).toBe(2);
    expect(again!.queue).toEqual(a0!.queue);
    expect(() => h.engine.ack('g', a0!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    h.engine.ack('g', again!.receiptHandle);
    expect(labels(h.receive('g', 'F'))).toEqual(['a1']);
  });

  it('a repeated attempt id gets its lost answer back: same messages, same attempts, fresh handles', async () => {
    await sendAll('a a b');
    const lost = h.receive('g', 'F', { attemptId: 'A-1' });
    expect(labels(lost)).toEqual(['a0', 'b0']);
    expect(h.receive('g', 'F', { attemptId: 'A-2' })).toEqual([]); // both groups locked
    const again = h.receive('g', 'F', { attemptId: 'A-1' });
    expect(labels(again)).toEqual(['a0', 'b0']);
    expect(again.map((m) => m.deliveryAttempt)).toEqual([1, 1]);
    expect(again.map((m) => m.queue)).toEqual(lost.map((m) => m.queue));
    for (const old of lost) {
      expect(() => h.engine.ack('g', old.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    }
    // The fresh leases run from the repeat.
    await h.advance(20_000);
    h.engine.ack('g', again[0]!.receiptHandle);
    expect(labels(h.receive('g', 'F', { attemptId: 'A-3' }))).toEqual(['a1']);
  });

  it('a repeated attempt id after one of its messages moved on is an ordinary receive', async () => {
    await sendAll('a a b');
    const first = h.receive('g', 'F', { attemptId: 'A-1' });
    h.engine.ack('g', byLabel(first, 'a0').receiptHandle);
    // a0 is done, so the repeat is not a lost answer: a1 is next, b0 stays leased.
    expect(labels(h.receive('g', 'F', { attemptId: 'A-1' }))).toEqual(['a1']);
  });

  it("a standard group's repeated attempt id gets its lost answer back too; a new id is an ordinary receive", async () => {
    await sendAll('a b c');
    Object.assign(h.policy('s'), { fifo: false });
    const [s0] = h.receive('s', 'F', { batchSize: 1, attemptId: 'X' });
    const [again] = h.receive('s', 'F', { batchSize: 1, attemptId: 'X' });
    expect(labels([again!])).toEqual(labels([s0!]));
    expect(again!.deliveryAttempt).toBe(1);
    expect(again!.receiptHandle).not.toBe(s0!.receiptHandle);
    expect(() => h.engine.ack('s', s0!.receiptHandle)).toThrow(
      expect.objectContaining({ code: StatusCode.INVALID_RECEIPT_HANDLE }),
    );
    const [next] = h.receive('s', 'F', { batchSize: 1, attemptId: 'Y' });
    expect(labels([next!])).not.toEqual(labels([s0!]));
  });

  it('accepts an ack of an expired lease during the backoff, which releases the group', async () => {
    await sendAll('a a');
    const [a0] = h.receive('g', 'F');
    await h.advance(30_000);
    h.engine.ack('g', a0!.receiptHandle);
    const [a1] = h.receive('g', 'F');
    expect(labels([a1!])).toEqual(['a1']);
    expect(a1!.deliveryAttempt).toBe(1);
  });

  it('a nack redelivers after the group backoff with attempt + 1', async () => {
    await sendAll('a a');
    const [a0] = h.receive('g', 'F');
    const nack = h.engine.changeInvisibleDuration('g', a0!.receiptHandle, 0);
    expect(h.receive('g', 'F')).toEqual([]);
    const woken = h.engine.waitForMessages('g', 'F', 20_000);
    await h.advance(1_000);
    await expect(woken).resolves.toBe('notified'); // the end of the backoff wakes long polls
    const [again] = h.receive('g', 'F');
    expect([labels([again!])[0], again!.deliveryAttempt]).toEqual(['a0', 2]);
    expect(() => h.engine.ack('g', nack.receiptHandle)).toThrow(expect.objectContaining(INVALID));
  });

  it('does not order ungrouped messages', async () => {
    await sendAll('- - a -');
    expect(labels(h.receive('g', 'F'))).toEqual(['-0', '-1', 'a0', '-2']);
  });

  it('dead-letters the head after max attempts, which releases the group', async () => {
    h.policy('g').maxDeliveryAttempts = 2;
    await sendAll('a a');
    expect(labels(h.receive('g', 'F'))).toEqual(['a0']);
    await h.advance(30_000);
    await h.advance(1_000);
    const [second] = h.receive('g', 'F');
    expect(second!.deliveryAttempt).toBe(2);
    await h.advance(30_000); // last attempt expires: DLQ
    const dlq = h.read('%DLQ%g');
    expect(dlq.map((m) => m.userProperties['label'])).toEqual(['a0']);
    expect(dlq[0]!.systemProperties[MESSAGE_GROUP_PROPERTY]).toBe('a');
    expect(labels(h.receive('g', 'F'))).toEqual(['a1']);
  });

  it('ForwardMessageToDeadLetterQueue releases the group too', async () => {
    await sendAll('a a');
    const [a0] = h.receive('g', 'F');
    await h.engine.forwardToDeadLetter('g', a0!.receiptHandle, 'local retries exhausted');
    expect(labels(h.receive('g', 'F'))).toEqual(['a1']);
  });

  it('looks ahead past blocked groups within a bounded window only', async () => {
    await h.close();
    await setUp({ limits: { maxLookaheadPerQueue: 3 } });
    await sendAll('a a a a a a b');
    const [a0] = h.receive('g', 'F');
    expect(labels([a0!])).toEqual(['a0']);
    expect(h.receive('g', 'F')).toEqual([]); // b0 is beyond a1..a3, the window
    h.engine.ack('g', a0!.receiptHandle);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = h.receive('g', 'F');
      got.push(...labels(batch));
      for (const m of batch) h.engine.ack('g', m.receiptHandle);
    }
    expect(got).toEqual(['a1', 'a2', 'a3', 'b0', 'a4', 'a5']);
  });

  it('after a restart, redelivers un-acked messages in order', async () => {
    await sendAll('a a a');
    const [a0] = h.receive('g', 'F');
    h.engine.ack('g', a0!.receiptHandle);
    h.receive('g', 'F'); // a1 in flight when the broker stops
    await h.engine.close();
    h.engine = h.newEngine();
    const [a1] = h.receive('g', 'F');
    expect([labels([a1!])[0], a1!.deliveryAttempt]).toEqual(['a1', 1]);
    expect(h.receive('g', 'F')).toEqual([]);
  });
});

/** mulberry32 */
const prng = seededRandom;

describe('FIFO under concurrent receivers with random ack, nack, expiry and crashes', () => {
  it.each([
    ['without dead letters', 11, 1_000],
    ['with dead letters', 23, 4],
  ])(
    'keeps every message group in order (%s)',
    async (_name, seed, maxDeliveryAttempts) => {
      const random = prng(seed);
      Object.assign(h.policy('g'), { maxDeliveryAttempts, backoff: [500, 2_000] });
      const GROUPS = 24;
      const PER_GROUP = 25;
      const QUEUES = 4;

      // Interleave the groups' messages randomly; each group keeps to one queue.
      const next = new Array<number>(GROUPS).fill(0);
      const sends: Promise<unknown>[] = [];
      for (let left = GROUPS * PER_GROUP; left > 0; left--) {
        let g = Math.floor(random() * GROUPS);
        while (next[g] === PER_GROUP) g = (g + 1) % GROUPS;
        const k = next[g]!++;
        sends.push(
          h.send('R', {
            queueId: g % QUEUES,
            messageGroup: `mg${g}`,
            userProperties: { g: String(g), k: String(k) },
          }),
        );
      }
      await Promise.all(sends);

      const acked = Array.from({ length: GROUPS }, () => [] as number[]);
      const dead = Array.from({ length: GROUPS }, () => new Set<number>());
      let dlqRead = 0;
      const syncDead = (): void => {
        const fresh = h.store.getMessages('%DLQ%g', 0, dlqRead, 1_000).messages;
        dlqRead += fresh.length;
        for (const m of fresh) dead[Number(m.userProperties['g'])]!.add(Number(m.userProperties['k']));
      };
      const finished = (g: number, k: number): boolean => acked[g]!.includes(k) || dead[g]!.has(k);
      const keyOf = (m: StoredMessage): [number, number] => [
        Number(m.userProperties['g']),
        Number(m.userProperties['k']),
      ];
      const clients = Array.from(
        { length: 5 },
        () => [] as { handle: string; g: number; k: number; until: number }[],
      );
      let deliveries = 0;
      let lateAcks = 0;
      let otherGroupsWhileBlocked = 0;

      const receiveAs = (c: number): void => {
        syncDead();
        const got = h.receive('g', 'R', { batchSize: 1 + Math.floor(random() * 8), invisibleMs: 10_000 });
        const inBatch = new Set<number>();
        for (const r of got) {
          const [g, k] = keyOf(r.message);
          // Every earlier message of the group is finished, so none is in flight or waiting.
          for (let j = 0; j < k; j++) {
            if (!finished(g, j)) throw new Error(`mg${g}: ${k} delivered while ${j} is not finished`);
          }
          expect(finished(g, k)).toBe(false);
          expect(inBatch.has(g)).toBe(false);
          inBatch.add(g);
          deliveries++;
          clients[c]!.push({ handle: r.receiptHandle, g, k, until: r.invisibleUntil });
        }
        if (got.length > 0 && h.engine.inFlightCount('g') > got.length) otherGroupsWhileBlocked++;
      };

      for (let step = 0; step < 4_000; step++) {
        const c = Math.floor(random() * clients.length);
        const held = clients[c]!;
        const action = random();
        if (action < 0.35 || held.length === 0) {
          receiveAs(c);
        } else {
          const i = Math.floor(random() * held.length);
          const d = held[i]!;
          held.splice(i, 1);
          if (action < 0.75) {
            try {
              h.engine.ack('g', d.handle);
              expect(finished(d.g, d.k)).toBe(false);
              acked[d.g]!.push(d.k);
              if (h.clock.now() >= d.until) lateAcks++; // expired, not yet redelivered: accepted
            } catch (err) {
              expect(err).toMatchObject(INVALID);
            }
          } else if (action < 0.85) {
            try {
              const nack = h.engine.changeInvisibleDuration('g', d.handle, 0);
              if (random() < 0.3) held.push({ ...d, handle: nack.receiptHandle, until: nack.invisibleUntil });
            } catch (err) {
              expect(err).toMatchObject(INVALID);
            }
          } else if (action < 0.9) {
            // The client crashes holding it: the lease will expire.
          } else {
            held.push(d); // keep it past its lease: a late ack may still be accepted
            await h.advance(Math.floor(random() * 12_000));
          }
        }
        if (step % 50 === 0) await h.advance(Math.floor(random() * 3_000));
        await h.settle();
      }
      // Drain: everything left is received and acked.
      for (let round = 0; round < 10_000; round++) {
        syncDead();
        const done = acked.every((a, g) => a.length + dead[g]!.size === PER_GROUP);
        if (done) break;
        for (const held of clients) {
          for (const d of held.splice(0)) {
            try {
              h.engine.ack('g', d.handle);
              acked[d.g]!.push(d.k);
            } catch {
              // stale
            }
          }
        }
        receiveAs(0);
        await h.advance(2_000);
      }

      syncDead();
      for (let g = 0; g < GROUPS; g++) {
        const survivors = Array.from({ length: PER_GROUP }, (_, k) => k).filter((k) => !dead[g]!.has(k));
        expect(acked[g]).toEqual(survivors); // acked order per group == sent order
      }
      const deadCount = dead.reduce((n, s) => n + s.size, 0);
      if (maxDeliveryAttempts > 100) expect(deadCount).toBe(0);
      else expect(deadCount).toBeGreaterThan(0);
      expect(deliveries).toBeGreaterThan(GROUPS * PER_GROUP);
      expect(otherGroupsWhileBlocked).toBeGreaterThan(0);
      expect(lateAcks).toBeGreaterThan(0);
      for (let q = 0; q < QUEUES; q++) expect(h.offsets.get('g', 'R', q)).toBe(h.store.maxOffset('R', q));
      expect(h.engine.inFlightCount('g')).toBe(0);
    },
    120_000,
  );
});
