/**
 * One grpc-js channel (`Client`) per endpoint `host:port`, shared by every call and stream to it.
 *
 * Channel options, and why:
 * - inbound messages up to 16 MiB: a delivered 4 MiB body with its properties exceeds grpc-js's
 *   4 MiB default (PROTOCOL.md §0);
 * - keepalive pings every 330 s (timeout 20 s): they detect a dead connection under an idle
 *   telemetry stream. Apache's proxy runs Netty's defaults, which answer pings more frequent than
 *   every 5 minutes with GOAWAY `too_many_pings`; 330 s stays clear of that. Calls have their own
 *   deadlines, so nothing waits on keepalive;
 * - reconnect backoff capped at 10 s (grpc-js's default 120 s would leave a client idle for two
 *   minutes after a broker restart).
 */
import {
  Client,
  connectivityState,
  credentials as grpcCredentials,
  type ChannelCredentials,
  type ChannelOptions,
  type Interceptor,
} from '@grpc/grpc-js';

/** Largest response accepted (PROTOCOL.md §0). */
export const MAX_RECEIVE_MESSAGE_BYTES = 16 * 1024 * 1024;
export const KEEPALIVE_TIME_MS = 330_000;
export const KEEPALIVE_TIMEOUT_MS = 20_000;
export const MAX_RECONNECT_BACKOFF_MS = 10_000;

export const CHANNEL_OPTIONS: ChannelOptions = Object.freeze({
  'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
});

export interface ChannelPoolOptions {
  readonly tls: boolean | ChannelCredentials;
  readonly interceptors: readonly Interceptor[];
}

/** What waiting for a channel to connect saw. */
export interface ReadyOutcome {
  readonly ready: boolean;
  /** A connection attempt failed (refused, reset, unreachable) at least once. */
  readonly failedToConnect: boolean;
}

export class ChannelPool {
  readonly #options: ChannelPoolOptions;
  readonly #credentials: ChannelCredentials;
  readonly #clients = new Map<string, Client>();
  #closed = false;

  constructor(options: ChannelPoolOptions) {
    this.#options = options;
    this.#credentials =
      options.tls === true
        ? grpcCredentials.createSsl()
        : options.tls === false
          ? grpcCredentials.createInsecure()
          : options.tls;
  }

  /** The channel of `address` (created on first use). */
  get(address: string): Client {
    if (this.#closed) throw new Error('the channel pool is closed');
    let client = this.#clients.get(address);
    if (!client) {
      client = new Client(address, this.#credentials, {
        ...CHANNEL_OPTIONS,
        interceptors: [...this.#options.interceptors],
      });
      this.#clients.set(address, client);
    }
    return client;
  }

  /**
   * Waits until the channel of `address` is READY or `deadline` passes, noting whether connecting
   * failed along the way (to tell an unreachable endpoint from a silent one).
   */
  waitReady(address: string, deadline: number): Promise<ReadyOutcome> {
    const channel = this.get(address).getChannel();
    let failedToConnect = false;
    return new Promise((resolve) => {
      const check = (): void => {
        const state = channel.getConnectivityState(true);
        if (state === connectivityState.READY) return resolve({ ready: true, failedToConnect });
        if (state === connectivityState.TRANSIENT_FAILURE) failedToConnect = true;
        if (state === connectivityState.SHUTDOWN || Date.now() >= deadline) {
          return resolve({ ready: false, failedToConnect });
        }
        channel.watchConnectivityState(state, deadline, (err) => {
          if (err) resolve({ ready: false, failedToConnect });
          else check();
        });
      };
      check();
    });
  }

  /** Closes every channel (calls still under way fail with CANCELLED / UNAVAILABLE). */
  close(): void {
    this.#closed = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
