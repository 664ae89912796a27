/**
 * What the gRPC layer knows about each connected client (by `x-mq-client-id`): its type and groups,
 * the Settings it last sent, the topics a producer publishes to, its open telemetry streams, when it
 * was last heard from, and the leases of its auto-renewed (Push) receives.
 *
 * Liveness (PROTOCOL.md §2, Leases): a client is alive while one of its telemetry streams is open,
 * or for `CLIENT_EXPIRY_MS` (60 s) after it was last heard from (heartbeat every 10 s, any call,
 * telemetry activity). A client that is neither is dead: its leases are handed back at once
 * (`core.releaseClient`, no attempt counted) and its record forgotten. NotifyClientTermination does
 * the same at once (`terminate`).
 *
 * Lease renewal, decision: an auto-renewed receive leases each message for 60 s
 * (`AUTO_RENEW_LEASE_MS`, Java's `defaultInvisibleTimeMills`) and this registry extends the lease
 * with `core.renewLease` while the client lives, as Java's `ReceiptHandleManager` does: every 5 s the
 * leases ending within the next 20 s (Java: 10 s) get another 60 s, up to 3 h after the receive
 * (`AUTO_RENEW_MAX_MS`, Java's `renewMaxTimeMillis`); then the lease runs out and the message is
 * redelivered with attempt + 1. Why not "hold until ack": a consumer that dies without a
 * NotifyClientTermination, or a message it lost track of, would then stay invisible forever; with
 * 60 s leases the worst case is 60 s after the renewals stop. Why not one long lease: the 3 h cap
 * would then also be the delay before a lost message comes back. A renewal that finds the handle
 * stale (acked, nacked, forwarded to the DLQ, released) simply drops it from the table.
 *
 * Also kept: which producer sent a transaction (its check-back goes there first).
 *
 * All timing runs on the injected clock; the sweep timer is armed only while clients are known.
 */
import { type BrokerCore } from '../core/broker-core.js';
import { type BrokerCoreLogger } from '../core/broker-core-types.js';
import { type Clock, type TimerHandle } from '../core/clock.js';
import { AUTO_RENEW_MAX_MS, DEFAULT_INVISIBLE_DURATION_MS } from '../core/limits.js';
import { RocketError, StatusCode } from '../status-code.js';
import { ClientType, type TelemetryCommand } from './proto-types.js';

/** A client with no telemetry stream and nothing heard for this long is dead. */
export const CLIENT_EXPIRY_MS = 60_000;
/** How often liveness is checked and leases near their end are renewed. */
export const SWEEP_INTERVAL_MS = 5_000;
/** A lease ending within this window is renewed at the next sweep (Java `renewAheadTimeMillis` 10 s, doubled for slack). */
export const RENEW_AHEAD_MS = 20_000;
/** Length of an auto-renewed lease and of each renewal (Java `defaultInvisibleTimeMills` / `renewSliceTimeMillis`). */
export const AUTO_RENEW_LEASE_MS = DEFAULT_INVISIBLE_DURATION_MS;
/** Renewal of one lease stops this long after its receive (Java `renewMaxTimeMillis`). */
export const AUTO_RENEW_CAP_MS = AUTO_RENEW_MAX_MS;
/** Transactions whose sender is remembered for check-backs (oldest forgotten first). */
export const TRANSACTION_SENDERS_MAX = 10_000;

/** The Settings of a client as the broker uses them (names are the broker's, namespace applied). */
export interface ClientSettingsView {
  /** `ClientType` of proto-types.ts. */
  readonly clientType: number;
  /** Consumers: the group. */
  readonly group?: string;
  /** Producers: the topics from `publishing.topics`. */
  readonly topics: readonly string[];
  /** What the consumer long-polls with: pushed to Push consumers, sent by Simple consumers. */
  readonly longPollingTimeoutMs?: number;
  /** The client's request timeout. */
  readonly requestTimeoutMs?: number;
  /** Clock time the Settings arrived. */
  readonly receivedAt: number;
}

/** A telemetry stream, as the registry needs it: commands go out, shutdown ends it. */
export interface TelemetryChannel {
  /** The stream's `x-mq-namespace`: names in commands are shown without it. */
  readonly namespace: string;
  /** Writes a server command; false when the stream can no longer be written to. */
  send(command: TelemetryCommand): boolean;
  /** Ends the stream with gRPC status OK (server shutdown); ignored when already ended. */
  end(): void;
}

/** A lease the registry renews while its client lives. */
interface RenewedLease {
  readonly group: string;
  readonly receiptHandle: string;
  /** Clock time the lease ends now. */
  until: number;
  /** Renewals stop here (receive + 3 h). */
  readonly renewUntil: number;
}

interface ClientRecord {
  readonly id: string;
  clientType: number | undefined;
  readonly groups: Set<string>;
  settings: ClientSettingsView | undefined;
  lastSeen: number;
  readonly channels: Set<TelemetryChannel>;
  /** receipt handle → lease. */
  readonly leases: Map<string, RenewedLease>;
}

export interface ClientRegistryOptions {
  readonly core: BrokerCore;
  readonly clock: Clock;
  readonly logger: BrokerCoreLogger;
}

export class ClientRegistry {
  readonly #core: BrokerCore;
  readonly #clock: Clock;
  readonly #logger: BrokerCoreLogger;
  readonly #clients = new Map<string, ClientRecord>();
  /** Every open stream, also of clients already forgotten (terminated): shutdown ends them all. */
  readonly #channels = new Set<TelemetryChannel>();
  /** transaction id → client id of its sender, insertion-ordered for eviction. */
  readonly #transactionSenders = new Map<string, string>();
  #sweepTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: ClientRegistryOptions) {
    this.#core = options.core;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** Heartbeat / any call: the client is alive (clientType from the proto enum, group for consumers). */
  touch(clientId: string, clientType?: number, group?: string): void {
    if (this.#closed) return;
    const client = this.#record(clientId);
    if (clientType !== undefined && clientType !== ClientType.UNSPECIFIED) client.clientType = clientType;
    if (group !== undefined && group !== '') client.groups.add(group);
  }

  /**
   * A telemetry stream of `clientId` opened: the client is alive until it closes (and 60 s beyond).
   * Returns the function to call when the stream ends.
   */
  attachChannel(clientId: string, channel: TelemetryChannel): () => void {
    if (this.#closed) {
      channel.end();
      return () => undefined;
    }
    this.#record(clientId).channels.add(channel);
    this.#channels.add(channel);
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.#channels.delete(channel);
      const client = this.#clients.get(clientId);
      if (!client?.channels.delete(channel)) return;
      client.lastSeen = this.#clock.now();
    };
  }

  /** Settings the client sent (and the broker accepted). */
  updateSettings(clientId: string, settings: ClientSettingsView): void {
    if (this.#closed) return;
    const client = this.#record(clientId);
    client.settings = settings;
    client.clientType = settings.clientType;
    if (settings.group !== undefined && settings.group !== '') client.groups.add(settings.group);
  }

  /** The Settings the client last sent, if any (receive uses long_polling_timeout etc.). */
  settingsOf(clientId: string): ClientSettingsView | undefined {
    return this.#clients.get(clientId)?.settings;
  }

  /** True while the client has a telemetry stream open or was heard from within 60 s. */
  isAlive(clientId: string): boolean {
    const client = this.#clients.get(clientId);
    return client !== undefined && this.#alive(client, this.#clock.now());
  }

  /** Clients known now (alive or not yet swept). */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * Leases of an auto-renewed receive: renewed while `clientId` lives, for at most 3 h from now.
   * `until` is each lease's current end (`ReceivedMessage.invisibleUntil`).
   */
  trackAutoRenew(
    clientId: string,
    group: string,
    leases: readonly { readonly receiptHandle: string; readonly invisibleUntil: number }[],
  ): void {
    if (this.#closed || leases.length === 0) return;
    const client = this.#record(clientId);
    const renewUntil = this.#clock.now() + AUTO_RENEW_CAP_MS;
    for (const lease of leases) {
      client.leases.set(lease.receiptHandle, {
        group,
        receiptHandle: lease.receiptHandle,
        until: lease.invisibleUntil,
        renewUntil,
      });
    }
  }

  /** Stops renewing a lease (it was handed back or finished). */
  untrack(clientId: string, receiptHandle: string): void {
    this.#clients.get(clientId)?.leases.delete(receiptHandle);
  }

  /** Leases renewed for `clientId` now. */
  trackedLeases(clientId: string): number {
    return this.#clients.get(clientId)?.leases.size ?? 0;
  }

  /** Remembers who sent a transactional message, so that its check-back goes to that producer first. */
  noteTransactionSender(transactionId: string, clientId: string): void {
    if (this.#closed || transactionId === '' || clientId === '') return;
    this.#transactionSenders.delete(transactionId);
    this.#transactionSenders.set(transactionId, clientId);
    if (this.#transactionSenders.size > TRANSACTION_SENDERS_MAX) {
      const oldest = this.#transactionSenders.keys().next().value;
      if (oldest !== undefined) this.#transactionSenders.delete(oldest);
    }
  }

  /**
   * The stream a transaction check-back for `topic` goes to: the sender's, if it is connected, else
   * a connected producer whose Settings list the topic (the one heard from last); undefined when no
   * such producer is connected.
   */
  producerChannelFor(topic: string, transactionId?: string): TelemetryChannel | undefined {
    const senderId = transactionId === undefined ? undefined : this.#transactionSenders.get(transactionId);
    const sender = senderId === undefined ? undefined : this.#clients.get(senderId);
    if (sender && sender.channels.size > 0 && sender.clientType === ClientType.PRODUCER) {
      return lastOf(sender.channels);
    }
    let best: ClientRecord | undefined;
    for (const client of this.#clients.values()) {
      if (client.channels.size === 0 || client.clientType !== ClientType.PRODUCER) continue;
      if (!client.settings?.topics.includes(topic)) continue;
      if (!best || client.lastSeen > best.lastSeen) best = client;
    }
    return best ? lastOf(best.channels) : undefined;
  }

  /** NotifyClientTermination: forget its settings, release its leases (core.releaseClient). */
  terminate(clientId: string, group?: string): void {
    const client = this.#clients.get(clientId);
    this.#clients.delete(clientId);
    const released = this.#releaseLeases(clientId);
    if (client || released > 0) {
      const what = group ? `client ${clientId} of group ${group}` : `client ${clientId}`;
      this.#logger.log(`${what} terminated; ${released} leased message(s) made visible again`);
    }
    this.#disarmIfIdle();
  }

  /** Stops the timers and ends every telemetry stream with OK (server shutdown). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const channel of [...this.#channels]) {
      try {
        channel.end();
      } catch (err) {
        this.#logger.warn(`ending a telemetry stream failed: ${describe(err)}`);
      }
    }
    this.#channels.clear();
    this.#clients.clear();
    this.#transactionSenders.clear();
  }

  /** Runs one liveness and renewal pass now (the timer does this every 5 s). */
  sweep(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const client of [...this.#clients.values()]) {
      if (!this.#alive(client, now)) {
        this.#clients.delete(client.id);
        const released = this.#releaseLeases(client.id);
        if (released > 0 || client.settings) {
          this.#logger.log(
            `client ${client.id} gone (no telemetry stream, nothing heard for ${CLIENT_EXPIRY_MS} ms); ` +
              `${released} leased message(s) made visible again`,
          );
        }
        continue;
      }
      this.#renew(client, now);
    }
  }

  // ------------------------------------------------------------------------------------- internals

  #record(clientId: string): ClientRecord {
    const now = this.#clock.now();
    let client = this.#clients.get(clientId);
    if (!client) {
      client = {
        id: clientId,
        clientType: undefined,
        groups: new Set(),
        settings: undefined,
        lastSeen: now,
        channels: new Set(),
        leases: new Map(),
      };
      this.#clients.set(clientId, client);
      this.#arm();
    }
    client.lastSeen = now;
    return client;
  }

  #alive(client: ClientRecord, now: number): boolean {
    return client.channels.size > 0 || now - client.lastSeen < CLIENT_EXPIRY_MS;
  }

  #renew(client: ClientRecord, now: number): void {
    for (const lease of [...client.leases.values()]) {
      if (lease.until - now > RENEW_AHEAD_MS) continue;
      const left = lease.renewUntil - now;
      if (left < 1) {
        // Renewed for 3 h: the lease runs out and the message comes back with attempt + 1.
        client.leases.delete(lease.receiptHandle);
        continue;
      }
      try {
        lease.until = this.#core.renewLease(
          lease.group,
          lease.receiptHandle,
          Math.min(AUTO_RENEW_LEASE_MS, left),
        );
      } catch (err) {
        client.leases.delete(lease.receiptHandle);
        // A stale handle is the normal end of a lease (acked, nacked, forwarded, released).
        if (!(err instanceof RocketError && err.code === StatusCode.INVALID_RECEIPT_HANDLE)) {
          this.#logger.warn(`renewing a lease of client ${client.id} failed: ${describe(err)}`);
        }
      }
    }
  }

  #releaseLeases(clientId: string): number {
    if (this.#core.closed) return 0;
    try {
      return this.#core.releaseClient(clientId);
    } catch (err) {
      this.#logger.warn(`releasing the leases of client ${clientId} failed: ${describe(err)}`);
      return 0;
    }
  }

  #arm(): void {
    if (this.#sweepTimer !== undefined || this.#closed) return;
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#sweepTimer = undefined;
      this.sweep();
      if (this.#clients.size > 0) this.#arm();
    }, SWEEP_INTERVAL_MS);
  }

  #disarmIfIdle(): void {
    if (this.#clients.size > 0 || this.#sweepTimer === undefined) return;
    this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }
}

function lastOf<T>(set: ReadonlySet<T>): T | undefined {
  let last: T | undefined;
  for (const item of set) last = item;
  return last;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
