/**
 * The systems of the comparison, their durability class (PERFORMANCE.md (c): compare only within a
 * class), and how the harness gets each ready for a round:
 *   - ours: a fresh standalone broker process per round, BROKER_FLUSH=async (D0) or sync (D1);
 *   - RabbitMQ (the machine's, 127.0.0.1:5672): classic queue (D0: confirms after batched fsyncs)
 *     and quorum queue (D1: fsync before confirm); declarations checked with rabbitmqctl;
 *   - JetStream: the machine's server (127.0.0.1:4222, default 2 min sync interval: D0) and a
 *     second server of the bench's own with `sync_interval: always` (D1).
 * A peer that cannot be reached, or cannot run as its class says, is skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { connect as amqpConnect } from 'amqplib';
import { connect as natsConnect } from 'nats';
import { BENCH_RECEIVE_BATCH, startBrokerProcess } from '../common/broker-process.js';
import { startNatsSyncServer } from './nats-sync-server.js';
import { commandOf, pidListeningOn } from './proc-stats.js';
import { type TargetSpec } from './target.js';
import { rabbitTarget, rabbitVersionOf } from './targets/rabbit.js';

export type SystemId = 'ours-d0' | 'ours-d1' | 'rabbit-classic' | 'rabbit-quorum' | 'js-d0' | 'js-d1';
export type Durability = 'D0' | 'D1';
export type Family = 'ours' | 'rabbit' | 'jetstream';

export interface SystemDescription {
  readonly id: SystemId;
  readonly family: Family;
  readonly durability: Durability;
  readonly label: string;
}

export const SYSTEMS: readonly SystemDescription[] = [
  { id: 'ours-d0', family: 'ours', durability: 'D0', label: 'ours, async flush' },
  { id: 'rabbit-classic', family: 'rabbit', durability: 'D0', label: 'RabbitMQ classic' },
  { id: 'js-d0', family: 'jetstream', durability: 'D0', label: 'JetStream, default sync' },
  { id: 'ours-d1', family: 'ours', durability: 'D1', label: 'ours, sync flush' },
  { id: 'rabbit-quorum', family: 'rabbit', durability: 'D1', label: 'RabbitMQ quorum' },
  { id: 'js-d1', family: 'jetstream', durability: 'D1', label: 'JetStream, sync always' },
];

/** A probe or a start that takes longer than this counts as unreachable. */
const PROBE_TIMEOUT_MS = 5_000;
/** Messages the RabbitMQ probe publishes to check what its queues are. */
const RABBIT_PROBE_MESSAGES = 10;
const RABBITMQCTL_TIMEOUT_MS = 30_000;
/** How long the probe waits for rabbitmqctl's statistics to show its messages. */
const RABBIT_STATS_WAIT_MS = 15_000;
const RABBIT_STATS_POLL_MS = 500;

export interface RoundSession {
  readonly target: TargetSpec;
  /** The server process the round's CPU and memory are read from. */
  readonly brokerPid: number | null;
  /** Resolves with why, if the round's server process ends before `end()` (ours only). */
  readonly died?: Promise<string>;
  end(): Promise<void>;
}

export interface ReadySystem extends SystemDescription {
  readonly version: string;
  /** What the harness checked about the class, or could not. */
  readonly notes: readonly string[];
  beginRound(): Promise<RoundSession>;
  dispose(): Promise<void>;
}

export interface SkippedSystem extends SystemDescription {
  readonly reason: string;
}

export interface PeerAddresses {
  /** amqp://user:pass@host:port */
  readonly rabbitUrl: string;
  /** host:port */
  readonly natsServers: string;
  /**
   * Where the D1 JetStream's nats-server ≥ 2.10 is kept, downloaded into when this machine's is
   * older (nats-server-download.ts). Undefined: this machine's nats-server only.
   */
  readonly natsDownloadDir?: string;
}

function describe(id: SystemId): SystemDescription {
  return SYSTEMS.find((s) => s.id === id)!;
}

/** An AMQP URL as it may be printed: the password masked. */
export function displayUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function portOf(address: string): number {
  const match = /:(\d+)(?:\/.*)?$/.exec(address.replace(/^[a-z]+:\/\//, ''));
  return match ? Number(match[1]) : NaN;
}

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what}: no answer within ${PROBE_TIMEOUT_MS} ms`)),
        PROBE_TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

/** A peer's server process by its port, reported as a note when it cannot be found. */
function serverPid(address: string, expected: string, notes: string[]): number | null {
  const pid = pidListeningOn(portOf(address));
  if (pid === undefined) {
    notes.push(`no process found listening on ${address}: broker CPU and RSS not recorded`);
    return null;
  }
  notes.push(`server process ${pid} (${commandOf(pid) ?? '?'}; expected ${expected})`);
  return pid;
}

function ours(id: 'ours-d0' | 'ours-d1', root: string, version: string): ReadySystem {
  const flush = id === 'ours-d0' ? 'async' : 'sync';
  return {
    ...describe(id),
    version,
    notes: [
      `fresh broker process per round, BROKER_FLUSH=${flush} (checked in its start line), ` +
        `BROKER_RECEIVE_BATCH_MAX=${BENCH_RECEIVE_BATCH}`,
    ],
    async beginRound() {
      const broker = await startBrokerProcess({ root, flush });
      return {
        target: { kind: 'ours', endpoint: broker.endpoint },
        brokerPid: broker.pid,
        end: () => broker.stop(),
      };
    },
    dispose: () => Promise.resolve(),
  };
}

interface ListedQueue {
  readonly type: string;
  readonly durable: boolean;
  readonly messages: number;
  /** Classic queues only (a quorum queue keeps every message on disk and leaves this empty). */
  readonly persistent: number | null;
}

/** Queues as rabbitmqctl lists them, by name; undefined when rabbitmqctl cannot be run. */
function rabbitQueues(): Map<string, ListedQueue> | undefined {
  const out = spawnSync(
    'rabbitmqctl',
    [
      'list_queues',
      'name',
      'type',
      'durable',
      'messages',
      'messages_persistent',
      '-q',
      '--formatter',
      'json',
    ],
    { encoding: 'utf8', timeout: RABBITMQCTL_TIMEOUT_MS },
  );
  if (out.status !== 0 || !out.stdout) return undefined;
  const rows = JSON.parse(out.stdout) as Array<{
    name: string;
    type: string;
    durable: boolean;
    messages: number;
    messages_persistent: number | '';
  }>;
  return new Map(
    rows.map((r) => [
      r.name,
      {
        type: r.type,
        durable: r.durable,
        messages: r.messages,
        persistent: typeof r.messages_persistent === 'number' ? r.messages_persistent : null,
      },
    ]),
  );
}

/**
 * Declares a queue of `type` as the bench does, publishes to it, and checks what RabbitMQ made of
 * it: type and durability from rabbitmqctl, the count from the queue itself (rabbitmqctl's counts
 * are statistics, refreshed every few seconds), and for a classic queue that the messages are
 * persistent (waiting for the statistics; a quorum queue keeps every message in its log).
 */
async function checkRabbitQueue(url: string, type: 'classic' | 'quorum', notes: string[]): Promise<void> {
  const target = await rabbitTarget(url, type);
  const name = `bench_probe_${type}_${process.pid}`;
  try {
    const queue = await target.openQueue(name);
    try {
      for (let i = 0; i < RABBIT_PROBE_MESSAGES; i++) await queue.publish(Buffer.alloc(16, i));
      const depth = await queue.depth();
      if (depth !== RABBIT_PROBE_MESSAGES) {
        throw new Error(
          `probe queue holds ${depth} messages after ${RABBIT_PROBE_MESSAGES} confirmed publishes`,
        );
      }
      const first = rabbitQueues();
      if (first === undefined) {
        notes.push('queue type not verified (rabbitmqctl unavailable)');
        return;
      }
      let listed = first.get(name);
      const deadline = Date.now() + RABBIT_STATS_WAIT_MS;
      while (type === 'classic' && listed?.persistent !== RABBIT_PROBE_MESSAGES && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, RABBIT_STATS_POLL_MS));
        listed = rabbitQueues()?.get(name);
      }
      const persistent = type === 'quorum' || listed?.persistent === RABBIT_PROBE_MESSAGES;
      if (!listed || listed.type !== type || !listed.durable || !persistent) {
        throw new Error(
          `probe queue is ${JSON.stringify(listed)}; expected a durable ${type} queue holding ${RABBIT_PROBE_MESSAGES} persistent messages`,
        );
      }
      notes.push(
        `rabbitmqctl: durable ${type} queue, confirmed publishes ${type === 'quorum' ? 'in its Raft log' : 'persistent'}`,
      );
    } finally {
      await queue.remove();
    }
  } finally {
    await target.close();
  }
}

async function rabbit(url: string, wanted: SystemId[]): Promise<Array<ReadySystem | SkippedSystem>> {
  let version: string;
  try {
    const connection = await withTimeout(`RabbitMQ at ${displayUrl(url)}`, amqpConnect(url));
    version = rabbitVersionOf(connection);
    await connection.close();
  } catch (err) {
    return wanted.map((id) => ({
      ...describe(id),
      reason: `RabbitMQ not reachable at ${displayUrl(url)}: ${reasonOf(err)}`,
    }));
  }
  const out: Array<ReadySystem | SkippedSystem> = [];
  for (const id of wanted) {
    const type = id === 'rabbit-classic' ? 'classic' : 'quorum';
    const notes: string[] = [];
    try {
      await checkRabbitQueue(url, type, notes);
    } catch (err) {
      out.push({ ...describe(id), reason: `RabbitMQ ${version} ${type} queue: ${reasonOf(err)}` });
      continue;
    }
    const pid = serverPid(url, 'beam.smp', notes);
    out.push({
      ...describe(id),
      version,
      notes,
      beginRound: () =>
        Promise.resolve({
          target: { kind: 'rabbit', url, queueType: type },
          brokerPid: pid,
          end: () => Promise.resolve(),
        }),
      dispose: () => Promise.resolve(),
    });
  }
  return out;
}

async function jetstreamDefault(servers: string): Promise<ReadySystem | SkippedSystem> {
  let version: string;
  try {
    const nc = await withTimeout(`NATS at ${servers}`, natsConnect({ servers, timeout: PROBE_TIMEOUT_MS }));
    try {
      const manager = await nc.jetstreamManager();
      await manager.getAccountInfo(); // fails when JetStream is not enabled
      version = nc.info?.version ?? 'unknown';
    } finally {
      await nc.close();
    }
  } catch (err) {
    return { ...describe('js-d0'), reason: `NATS JetStream not reachable at ${servers}: ${reasonOf(err)}` };
  }
  const notes = ['machine server, default sync_interval (2 min): acks from the OS cache'];
  const pid = serverPid(servers, 'nats-server', notes);
  return {
    ...describe('js-d0'),
    version,
    notes,
    beginRound: () =>
      Promise.resolve({
        target: { kind: 'jetstream', servers },
        brokerPid: pid,
        end: () => Promise.resolve(),
      }),
    dispose: () => Promise.resolve(),
  };
}

async function jetstreamSyncAlways(
  root: string,
  downloadDir: string | undefined,
): Promise<ReadySystem | SkippedSystem> {
  const server = await startNatsSyncServer(root, downloadDir);
  if ('reason' in server) return { ...describe('js-d1'), reason: server.reason };
  return {
    ...describe('js-d1'),
    version: server.version,
    notes: [
      `bench's own nats-server ${server.servers}, sync_interval: always (checked on /varz), pid ${server.pid}`,
    ],
    beginRound: () =>
      Promise.resolve({
        target: { kind: 'jetstream', servers: server.servers },
        brokerPid: server.pid,
        end: () => Promise.resolve(),
      }),
    dispose: () => server.stop(),
  };
}

/** Gets the wanted systems ready (in SYSTEMS order) or says why each cannot run. */
export async function prepareSystems(
  root: string,
  peers: PeerAddresses,
  wanted: ReadonlySet<SystemId>,
  oursVersion: string,
): Promise<{ ready: ReadySystem[]; skipped: SkippedSystem[] }> {
  const results: Array<ReadySystem | SkippedSystem> = [];
  for (const id of ['ours-d0', 'ours-d1'] as const)
    if (wanted.has(id)) results.push(ours(id, root, oursVersion));
  const rabbits = (['rabbit-classic', 'rabbit-quorum'] as const).filter((id) => wanted.has(id));
  if (rabbits.length > 0) results.push(...(await rabbit(peers.rabbitUrl, rabbits)));
  if (wanted.has('js-d0')) results.push(await jetstreamDefault(peers.natsServers));
  if (wanted.has('js-d1')) results.push(await jetstreamSyncAlways(root, peers.natsDownloadDir));
  const order = (s: SystemDescription): number => SYSTEMS.findIndex((d) => d.id === s.id);
  results.sort((a, b) => order(a) - order(b));
  return {
    ready: results.filter((r): r is ReadySystem => 'beginRound' in r),
    skipped: results.filter((r): r is SkippedSystem => 'reason' in r),
  };
}
