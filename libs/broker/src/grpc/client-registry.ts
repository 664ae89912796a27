/**
 * The clients the gRPC layer has heard from (PLACEHOLDER of grpc-core, owned by grpc-streams from
 * here on): liveness from Heartbeat and other calls, the Settings each one sent, and the release of
 * a client's leases when it terminates.
 */
import { type BrokerCoreLogger } from '../core/broker-core-types.js';
import { type BrokerCore } from '../core/broker-core.js';
import { type Clock } from '../core/clock.js';
import { type Settings } from './proto-types.js';

/** What a receive needs of a client's last Settings. */
export interface ClientSettingsView {
  /** `ClientType` of the proto. */
  readonly clientType: number;
  readonly settings: Settings;
}

export interface ClientRegistryOptions {
  core: BrokerCore;
  clock: Clock;
  logger: BrokerCoreLogger;
}

interface ClientEntry {
  lastSeen: number;
  clientType: number | undefined;
  group: string | undefined;
  settings: ClientSettingsView | undefined;
}

export class ClientRegistry {
  readonly #core: BrokerCore;
  readonly #clock: Clock;
  readonly #logger: BrokerCoreLogger;
  readonly #clients = new Map<string, ClientEntry>();

  constructor(options: ClientRegistryOptions) {
    this.#core = options.core;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** Heartbeat / any call: the client is alive (clientType from the proto enum, group for consumers). */
  touch(clientId: string, clientType?: number, group?: string): void {
    const entry = this.#clients.get(clientId);
    const now = this.#clock.now();
    if (entry) {
      entry.lastSeen = now;
      if (clientType !== undefined) entry.clientType = clientType;
      if (group !== undefined) entry.group = group;
      return;
    }
    this.#clients.set(clientId, { lastSeen: now, clientType, group, settings: undefined });
  }

  /** NotifyClientTermination: forget its settings, release its leases (core.releaseClient). */
  terminate(clientId: string, _group?: string): void {
    this.#clients.delete(clientId);
    if (this.#core.closed) return;
    const released = this.#core.releaseClient(clientId);
    if (released > 0) this.#logger.log(`client ${clientId} terminated, ${released} leases released`);
  }

  /** The Settings the client last sent, if any (receive uses long_polling_timeout etc.). */
  settingsOf(clientId: string): ClientSettingsView | undefined {
    return this.#clients.get(clientId)?.settings;
  }

  close(): void {
    this.#clients.clear();
  }
}
