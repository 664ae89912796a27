/**
 * Test helper: a raw Telemetry stream of the harness's grpc-js client, with the server's frames
 * queued so that a test can await them one by one and see how the stream ended.
 */
import { type ClientDuplexStream, type Metadata, type StatusObject } from '@grpc/grpc-js';
import { ClientType, type Settings, type TelemetryCommand } from './proto-types.js';
import { clientMetadata, type GrpcHarness, type HeaderOptions } from './testing/grpc-harness.js';

export class TelemetryProbe {
  readonly frames: TelemetryCommand[] = [];
  /** The gRPC status the stream ended with (code 0 = OK), once it ended. */
  status: StatusObject | undefined;
  /** A gRPC error the stream failed with, if any. */
  error: Error | undefined;
  ended = false;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly stream: ClientDuplexStream<TelemetryCommand, TelemetryCommand>) {
    stream.on('data', (frame: TelemetryCommand) => {
      this.frames.push(frame);
      this.#wake();
    });
    stream.on('status', (status: StatusObject) => {
      this.status = status;
      this.#wake();
    });
    stream.on('error', (err: Error) => {
      this.error = err;
      this.#wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.#wake();
    });
  }

  send(command: TelemetryCommand): void {
    this.stream.write(command);
  }

  /** Resolves with frame `index` (0-based) once it arrived; rejects after `timeoutMs`. */
  frame(index: number, timeoutMs = 5_000): Promise<TelemetryCommand> {
    return this.until(() => this.frames[index], `frame ${index}`, timeoutMs);
  }

  /** Resolves with the final status once the stream is over (ended and status received). */
  closed(timeoutMs = 5_000): Promise<StatusObject> {
    return this.until(
      () => (this.ended || this.error ? this.status : undefined),
      'the end of the stream',
      timeoutMs,
    );
  }

  /** Half-closes the stream as the official client does on shutdown. */
  halfClose(): void {
    this.stream.end();
  }

  until<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const value = probe();
        if (value === undefined) return false;
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      if (check()) return;
      const waiter = (): void => {
        if (!check()) this.#waiters.push(waiter);
      };
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

type TelemetryMethod = (metadata: Metadata) => ClientDuplexStream<TelemetryCommand, TelemetryCommand>;

/** Opens a Telemetry stream with the official client's metadata. */
export function openTelemetry(h: GrpcHarness, headers: HeaderOptions = {}): TelemetryProbe {
  const method = (h.client as unknown as Record<string, TelemetryMethod>).Telemetry!;
  return new TelemetryProbe(method.call(h.client, clientMetadata(headers)));
}

/** Settings as the official producer sends them (PublishingSettings.toProtobuf). */
export function producerSettings(topics: readonly string[], namespace = ''): Settings {
  return {
    client_type: ClientType.PRODUCER,
    access_point: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 8081 }] },
    request_timeout: { seconds: 3, nanos: 0 },
    publishing: {
      topics: topics.map((name) => ({ name, resource_namespace: namespace })),
      validate_message_type: true,
    },
    user_agent: { language: 8, version: '1.0.8', platform: 'linux', hostname: 'test-host' },
  };
}

/** Settings as the official Push or Simple consumer sends them. */
export function consumerSettings(
  clientType: number,
  group: string,
  subscriptions: readonly { topic: string; tag?: string }[],
  longPollingMs?: number,
): Settings {
  return {
    client_type: clientType,
    access_point: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 8081 }] },
    request_timeout: { seconds: 3, nanos: 0 },
    subscription: {
      group: { name: group, resource_namespace: '' },
      subscriptions: subscriptions.map((s) => ({
        topic: { name: s.topic, resource_namespace: '' },
        expression: { type: 1, expression: s.tag ?? '*' },
      })),
      ...(longPollingMs === undefined
        ? {}
        : { long_polling_timeout: { seconds: Math.floor(longPollingMs / 1000), nanos: 0 } }),
    },
    user_agent: { language: 8, version: '1.0.8', platform: 'linux', hostname: 'test-host' },
  };
}
