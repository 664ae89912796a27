/**
 * The compose topology as local processes: a standalone built-in broker (apps/broker, with the
 * sample's BROKER_CONFIG, as the `broker` service) and each sample service in its own process with
 * its own fresh PostgreSQL database, configured only through the environment, exactly the variables
 * docker-compose.yml passes (ports 0: each service says where it listens).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFreshDatabase, type FreshDatabase } from './fresh-database.js';
import {
  ProcessGroup,
  READY_TIMEOUT_MS,
  REPO_ROOT,
  TS_LOADER_ARGS,
  type ServiceProcess,
} from './service-process.js';

export type SampleApp = 'order-service' | 'payment-service' | 'notification-service';

/** The HTTP port variable of each app (0 = any free port, printed at start). */
const PORT_VARIABLE: Readonly<Record<SampleApp, string>> = {
  'order-service': 'ORDER_PORT',
  'payment-service': 'PAYMENT_PORT',
  'notification-service': 'NOTIFICATION_PORT',
};

/** The sample's broker config, the file docker-compose.yml mounts into the broker. */
export const SAMPLE_BROKER_CONFIG = join(REPO_ROOT, 'apps', 'sample', 'broker-config.json');

const BROKER_READY = /ready: RocketMQ gRPC on 127\.0\.0\.1:(\d+) .*admin API on (http:\/\/127\.0\.0\.1:\d+)/;
/** Small segments: a test writes a few MiB, not the standalone default of 1 GiB per segment. */
const BROKER_SEGMENT_MB = '16';

export interface RunningService {
  readonly process: ServiceProcess;
  /** `http://localhost:<port>` */
  readonly url: string;
}

export interface SampleStackOptions {
  /** Names the databases and the data directory (`e2e_orders`). */
  readonly name: string;
  /** More variables per app (the chaos and demo settings). */
  readonly env?: Partial<Readonly<Record<SampleApp, Readonly<Record<string, string>>>>>;
  /** Apps started by `start` (default all three); the others can be started later. */
  readonly apps?: readonly SampleApp[];
}

/** One test file's running sample; `close()` in `afterAll` stops everything and drops the databases. */
export class SampleStack {
  readonly processes = new ProcessGroup();
  readonly databases = new Map<SampleApp, FreshDatabase>();
  readonly services = new Map<SampleApp, RunningService>();
  readonly #options: SampleStackOptions;
  readonly #dataDir: string;
  #broker: { process: ServiceProcess; endpoint: string; adminUrl: string } | undefined;

  private constructor(options: SampleStackOptions) {
    this.#options = options;
    this.#dataDir = mkdtempSync(join(tmpdir(), `rn-${options.name}-`));
  }

  /**
   * Creates the databases, starts the broker, then the apps (in parallel). On a failure the stack
   * is returned closed and the error carries every process's output.
   */
  static async start(options: SampleStackOptions): Promise<SampleStack> {
    const stack = new SampleStack(options);
    try {
      for (const app of ['order-service', 'payment-service', 'notification-service'] as const) {
        stack.databases.set(app, await createFreshDatabase(`${options.name}_${app.split('-')[0]}`));
      }
      await stack.#startBroker();
      await Promise.all(
        (options.apps ?? ['order-service', 'payment-service', 'notification-service']).map((a) =>
          stack.startApp(a),
        ),
      );
      return stack;
    } catch (err) {
      const detail = stack.processes.describe();
      await stack.close();
      throw new Error(`${(err as Error).message}\n${detail}`, { cause: err });
    }
  }

  get brokerEndpoint(): string {
    return this.#broker!.endpoint;
  }

  get brokerAdminUrl(): string {
    return this.#broker!.adminUrl;
  }

  /** The running service of `app`. */
  service(app: SampleApp): RunningService {
    const running = this.services.get(app);
    if (running === undefined) throw new Error(`${app} is not running`);
    return running;
  }

  url(app: SampleApp): string {
    return this.service(app).url;
  }

  db(app: SampleApp): FreshDatabase {
    return this.databases.get(app)!;
  }

  /** The environment compose would give `app`, for this stack. */
  envOf(app: SampleApp, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return {
      ROCKETMQ_ENDPOINTS: this.brokerEndpoint,
      DATABASE_URL: this.db(app).url,
      INSTANCE_NAME: `${app}-1`,
      BROKER_ADMIN_URL: this.brokerAdminUrl,
      [PORT_VARIABLE[app]]: '0',
      ...this.#options.env?.[app],
      ...extra,
    };
  }

  /**
   * Starts (or starts again) `app` from its source and waits until it listens. `instance` names a
   * further instance of the same app (same database and groups, its own INSTANCE_NAME): the
   * stack's `service(app)` stays the first one.
   */
  async startApp(
    app: SampleApp,
    extra: Readonly<Record<string, string>> = {},
    instance?: string,
  ): Promise<RunningService> {
    const label = instance ?? app;
    const started = this.processes.start({
      label,
      args: [...TS_LOADER_ARGS, join('apps', app, 'src', 'main.ts')],
      env: this.envOf(app, { ...(instance === undefined ? {} : { INSTANCE_NAME: instance }), ...extra }),
    });
    const listening = await started.waitForLine(
      new RegExp(`\\[${app}\\] listening on (http://\\S+)`),
      READY_TIMEOUT_MS,
    );
    const running = { process: started, url: listening[1]!.replace(/\/$/, '') };
    if (instance === undefined) this.services.set(app, running);
    return running;
  }

  /** SIGKILLs `app` (no drain, no goodbye: a crash). */
  async crash(app: SampleApp): Promise<void> {
    const running = this.service(app);
    this.services.delete(app);
    await running.process.kill();
  }

  /** Everything every process printed lately, for a failure message. */
  describe(): string {
    return this.processes.describe();
  }

  /** Kills every process, drops the databases, removes the broker's data. Safe to call twice. */
  async close(): Promise<void> {
    await this.processes.stopAll();
    for (const db of this.databases.values()) await db.drop().catch(() => undefined);
    rmSync(this.#dataDir, { recursive: true, force: true });
  }

  async #startBroker(): Promise<void> {
    const broker = this.processes.start({
      label: 'broker',
      args: [...TS_LOADER_ARGS, join('apps', 'broker', 'src', 'main.ts')],
      env: {
        BROKER_PORT: '0',
        BROKER_ADMIN_PORT: '0',
        BROKER_DATA_DIR: join(this.#dataDir, 'broker'),
        BROKER_FLUSH: 'sync',
        BROKER_CONFIG: SAMPLE_BROKER_CONFIG,
        BROKER_SEGMENT_MB,
      },
    });
    const ready = await broker.waitForLine(BROKER_READY);
    this.#broker = { process: broker, endpoint: `127.0.0.1:${ready[1]}`, adminUrl: ready[2]! };
  }
}
