/**
 * docker-compose.yml, checked without a Docker engine: Debian's docker-compose parses and
 * validates it (both profiles), and its normalized model is checked against the code: every
 * variable a service is given is one its app reads and accepts, the endpoints and databases point
 * at services of the same profile, every mounted file exists and parses, and the Apache init script
 * creates the same topics and groups as the built-in broker's config.
 *
 * The same topology runs as local processes in test/e2e (the proofs of the sample).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readBrokerConfig } from '../../apps/broker/src/broker-config.js';
import {
  NOTIFICATION_SERVICE_ENV,
  readNotificationServiceConfig,
} from '../../apps/notification-service/src/config.js';
import { ORDER_SERVICE_ENV, readOrderServiceConfig } from '../../apps/order-service/src/config.js';
import { PAYMENT_SERVICE_ENV, readPaymentServiceConfig } from '../../apps/payment-service/src/config.js';
import { loadBrokerConfigFile } from '@rocketnest/broker/admin/broker-config-file.js';
import {
  composeModel,
  findComposeCli,
  REPO_ROOT,
  runCompose,
  type ComposeCli,
  type ComposeModel,
  type ComposeService,
} from './compose-cli.js';
import {
  commandOf,
  defaultProfiles,
  envOf,
  hostPortOf,
  missingDependencies,
  mountsOf,
  SAMPLE_APPS,
  sampleAppOf,
  selectedServices,
  type SampleApp,
} from './compose-topology.js';

/** What each app reads from the environment, and its reader (which validates the values). */
const APPS: Readonly<
  Record<SampleApp, { env: readonly string[]; read: (env: NodeJS.ProcessEnv) => unknown }>
> = {
  'order-service': { env: ORDER_SERVICE_ENV, read: readOrderServiceConfig },
  'payment-service': { env: PAYMENT_SERVICE_ENV, read: readPaymentServiceConfig },
  'notification-service': { env: NOTIFICATION_SERVICE_ENV, read: readNotificationServiceConfig },
};

/** The two ways to run the stack: plain `up` (the .env profiles) and `--profile apache up`. */
const STACKS = [
  { label: 'docker compose up', profiles: defaultProfiles(), cliProfiles: [] as string[], broker: 'broker' },
  {
    label: 'docker compose --profile apache up',
    profiles: ['apache'],
    cliProfiles: ['apache'],
    broker: 'rmq-proxy',
  },
] as const;

const cli = findComposeCli();
if (typeof cli === 'string') {
  // CI installs it (.ci/run); a developer machine without it skips, saying why.
  console.warn(`skipping the docker-compose.yml checks: ${cli}`);
}
const describeWithCompose = typeof cli === 'string' ? describe.skip : describe;

/** Names an app read (a recording view of `env`): what a reader touches is what it reads. */
function namesRead(read: (env: NodeJS.ProcessEnv) => unknown, env: Record<string, string>): Set<string> {
  const seen = new Set<string>();
  const recording = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') seen.add(key);
      return Reflect.get(target, key) as unknown;
    },
  });
  read(recording);
  return seen;
}

/** The repository file a bind mount of `service` puts at `target`, if any. */
function mountedFile(service: ComposeService, target: string): string | undefined {
  return mountsOf(service).find((m) => !m.named && m.target === target)?.source;
}

/** `key = value` lines of a Java properties file. */
function properties(path: string): Map<string, string> {
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      return [l.slice(0, eq).trim(), l.slice(eq + 1).trim()] as const;
    });
  return new Map(entries);
}

describeWithCompose('docker-compose.yml (parsed by docker-compose, no engine)', () => {
  const compose = cli as ComposeCli;
  const models = new Map<string, ComposeModel>();
  const modelOf = (profiles: readonly string[]): ComposeModel => {
    const key = profiles.join(',');
    if (!models.has(key)) models.set(key, composeModel(compose, profiles));
    return models.get(key)!;
  };

  it('is a valid compose file with and without the apache profile (docker-compose config -q)', () => {
    for (const profiles of [[], ['apache']]) {
      const result = runCompose(compose, profiles, ['config', '-q']);
      expect({ profiles, status: result.status, stderr: result.stderr }).toEqual({
        profiles,
        status: 0,
        stderr: '',
      });
    }
    expect(
      runCompose(compose, [], ['config', '--profiles']).stdout.split('\n').filter(Boolean).sort(),
    ).toEqual(['apache', 'builtin']);
  });

  it('plain `up` runs the built-in broker profile (COMPOSE_PROFILES in .env), so the file needs no flags', () => {
    expect(defaultProfiles()).toEqual(['builtin']);
  });

  describe.each(STACKS)('$label', ({ profiles, cliProfiles, broker }) => {
    it('starts postgres, one broker and exactly one of each service, every dependency in the same profile', () => {
      const selected = selectedServices(modelOf(cliProfiles), profiles);
      expect(missingDependencies(selected)).toEqual([]);
      const apps = [...selected.values()].map(sampleAppOf).filter((a) => a !== undefined);
      expect(apps.sort()).toEqual([...SAMPLE_APPS].sort());
      expect(selected.has('postgres')).toBe(true);
      expect(selected.has(broker)).toBe(true);
      // The other profile's broker does not run.
      expect(selected.has(broker === 'broker' ? 'rmq-proxy' : 'broker')).toBe(false);
    });

    it('points every service at this profile’s broker through ROCKETMQ_ENDPOINTS, on the port it serves', () => {
      const model = modelOf(cliProfiles);
      const selected = selectedServices(model, profiles);
      const brokerService = selected.get(broker)!;
      const servedPort =
        broker === 'broker'
          ? Number(envOf(brokerService).BROKER_PORT)
          : (
              JSON.parse(
                readFileSync(mountedFile(brokerService, commandOf(brokerService).at(-1)!)!, 'utf8'),
              ) as { grpcServerPort: number }
            ).grpcServerPort;
      for (const [name, service] of selected) {
        if (sampleAppOf(service) === undefined) continue;
        const endpoints = envOf(service).ROCKETMQ_ENDPOINTS;
        expect({ name, endpoints }).toEqual({ name, endpoints: `${broker}:${servedPort}` });
        expect(service.depends_on?.[broker]?.condition).toBe('service_healthy');
        expect(service.depends_on?.postgres?.condition).toBe('service_healthy');
      }
    });

    it('gives each service only variables its app reads (the list exported by its config.ts), with values it accepts', () => {
      const selected = selectedServices(modelOf(cliProfiles), profiles);
      for (const [name, service] of selected) {
        const app = sampleAppOf(service);
        if (app === undefined) continue;
        const env = envOf(service);
        const unknown = Object.keys(env).filter((key) => !APPS[app].env.includes(key));
        expect({ name, unknown }).toEqual({ name, unknown: [] });
        // And the app's reader accepts them (ranges, formats) and reads each of them.
        const read = namesRead(APPS[app].read, env);
        expect({ name, unread: Object.keys(env).filter((k) => !read.has(k)) }).toEqual({ name, unread: [] });
      }
    });

    it('gives each service a database the postgres container creates, on the postgres service', () => {
      const model = modelOf(cliProfiles);
      const selected = selectedServices(model, profiles);
      const initSql = mountedFile(
        model.services.postgres!,
        '/docker-entrypoint-initdb.d/create-databases.sql',
      );
      expect(initSql).toBeDefined();
      const created = [...readFileSync(initSql!, 'utf8').matchAll(/^CREATE DATABASE (\w+);/gm)].map(
        (m) => m[1],
      );
      const used = new Set<string>();
      for (const [name, service] of selected) {
        if (sampleAppOf(service) === undefined) continue;
        const url = new URL(envOf(service).DATABASE_URL!);
        expect({ name, host: url.hostname, port: url.port }).toEqual({
          name,
          host: 'postgres',
          port: '5432',
        });
        expect(created).toContain(url.pathname.slice(1));
        used.add(url.pathname.slice(1));
      }
      // One database per service: they share nothing but the broker.
      expect(used.size).toBe(SAMPLE_APPS.length);
    });
  });

  it('runs the built-in broker with settings apps/broker reads and accepts, and the sample’s config file', () => {
    const brokerService = modelOf([]).services.broker!;
    expect(commandOf(brokerService)).toEqual(['node', 'dist/apps/broker/src/main.js']);
    const env = envOf(brokerService);
    const read = namesRead(readBrokerConfig, env);
    expect(Object.keys(env).filter((k) => !read.has(k))).toEqual([]);
    const config = readBrokerConfig(env);
    // Reachable from the other containers, advertised under its service name.
    expect(config.host).toBe('0.0.0.0');
    expect(config.advertisedEndpoint).toBe(`broker:${config.port}`);
    expect(config.admin?.host).toBe('0.0.0.0');
    expect(config.admin?.token?.length).toBeGreaterThanOrEqual(16);
    // Its data on a named volume at BROKER_DATA_DIR.
    expect(mountsOf(brokerService).find((m) => m.target === config.dataDir)?.named).toBe(true);
    // The services find its admin API (GET /stats) with the same token.
    for (const app of SAMPLE_APPS) {
      const serviceEnv = envOf(modelOf([]).services[app]!);
      expect(serviceEnv.BROKER_ADMIN_URL).toBe(`http://broker:${config.admin!.port}`);
      expect(serviceEnv.BROKER_ADMIN_TOKEN).toBe(config.admin!.token);
    }
    // BROKER_CONFIG is a mounted repository file that the broker accepts.
    const file = mountedFile(brokerService, env.BROKER_CONFIG!);
    expect(file).toBeDefined();
    expect(() => loadBrokerConfigFile(file!, {})).not.toThrow();
  });

  it('mounts only files that exist in the repository, read-only', () => {
    for (const [name, service] of Object.entries(modelOf(['apache']).services)) {
      for (const mount of mountsOf(service).filter((m) => !m.named)) {
        const path = relative(REPO_ROOT, mount.source);
        expect({ name, path, file: existsSync(mount.source) && statSync(mount.source).isFile() }).toEqual({
          name,
          path,
          file: true,
        });
        expect({ name, path, readOnly: mount.readOnly }).toEqual({ name, path, readOnly: true });
      }
    }
  });

  it('runs every service of the image from an entry point the build produces (apps/<app>/src/main.ts → dist)', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist\/apps \.\/dist\/apps$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    for (const [name, service] of Object.entries(modelOf(['apache']).services)) {
      if (service.image !== 'rocketnest-sample:local') continue;
      const entry = commandOf(service).find((w) => w.startsWith('dist/'));
      expect({ name, entry }).toEqual({ name, entry: expect.stringMatching(/^dist\/apps\/.+\.js$/) });
      const source = join(REPO_ROOT, entry!.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      expect({ name, source: relative(REPO_ROOT, source), exists: existsSync(source) }).toEqual({
        name,
        source: relative(REPO_ROOT, source),
        exists: true,
      });
    }
  });

  describe('the apache profile', () => {
    const services = (): Readonly<Record<string, ComposeService>> => modelOf(['apache']).services;

    it('runs the proxy in cluster mode against the name server the broker registers with, one cluster name everywhere', () => {
      const s = services();
      const proxy = JSON.parse(
        readFileSync(mountedFile(s['rmq-proxy']!, '/home/rocketmq/conf/rmq-proxy.json')!, 'utf8'),
      ) as {
        proxyMode: string;
        namesrvAddr: string;
        rocketMQClusterName: string;
      };
      const brokerConf = properties(mountedFile(s['rmq-broker']!, '/home/rocketmq/conf/broker.conf')!);
      expect(proxy.proxyMode.toLowerCase()).toBe('cluster');
      expect(hostPortOf(proxy.namesrvAddr)).toEqual({ host: 'rmq-namesrv', port: 9876 });
      expect(brokerConf.get('namesrvAddr')).toBe(proxy.namesrvAddr);
      expect(brokerConf.get('brokerClusterName')).toBe(proxy.rocketMQClusterName);
      // Topics come from rmq-init with their message types, never auto-created as NORMAL.
      expect(brokerConf.get('autoCreateTopicEnable')).toBe('false');
      expect(commandOf(s['rmq-broker']!)).toEqual([
        'sh',
        'mqbroker',
        '-c',
        '/home/rocketmq/conf/broker.conf',
      ]);
      expect(commandOf(s['rmq-proxy']!)).toEqual([
        'sh',
        'mqproxy',
        '-pc',
        '/home/rocketmq/conf/rmq-proxy.json',
      ]);
      const init = s['rmq-init']!;
      expect(envOf(init).NAMESRV_ADDR).toBe(proxy.namesrvAddr);
      const script = readFileSync(mountedFile(init, commandOf(init).at(-1)!)!, 'utf8');
      expect(script).toContain(`CLUSTER="\${CLUSTER_NAME:-${proxy.rocketMQClusterName}}"`);
    });

    it('creates with mqadmin the topics, message types and FIFO groups the built-in broker gets from its config', () => {
      const s = services();
      const script = readFileSync(
        mountedFile(s['rmq-init']!, '/home/rocketmq/conf/create-topics.sh')!,
        'utf8',
      );
      const builtinConfigFile = mountedFile(modelOf([]).services.broker!, '/app/config/broker-config.json')!;
      const builtin = loadBrokerConfigFile(builtinConfigFile, {});

      const scriptTopics = new Map(
        [...script.matchAll(/^topic ([\w%-]+) (NORMAL|FIFO|DELAY|TRANSACTION)$/gm)].map((m) => [
          m[1]!,
          m[2]!,
        ]),
      );
      for (const topic of builtin.topics) {
        // One message type per topic on Apache (the proxy checks sends against it).
        expect({ topic: topic.name, types: topic.messageTypes }).toEqual({
          topic: topic.name,
          types: [scriptTopics.get(topic.name)],
        });
      }
      expect([...scriptTopics.keys()].sort()).toEqual(builtin.topics.map((t) => t.name).sort());

      const scriptGroups = new Map(
        [...script.matchAll(/^group ([\w%-]+)(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]),
      );
      for (const group of builtin.groups) {
        const options = scriptGroups.get(group.name);
        expect({ group: group.name, created: options !== undefined }).toEqual({
          group: group.name,
          created: true,
        });
        expect({ group: group.name, fifo: /(^|\s)-o true(\s|$)/.test(options!) }).toEqual({
          group: group.name,
          fifo: group.options.fifo === true,
        });
        // RocketMQ counts retries (retryMaxTimes), the built-in broker counts deliveries.
        const retries = /(?:^|\s)-r (\d+)/.exec(options!);
        if (group.options.maxDeliveryAttempts !== undefined) {
          expect({ group: group.name, retries: Number(retries?.[1]) }).toEqual({
            group: group.name,
            retries: group.options.maxDeliveryAttempts - 1,
          });
        }
      }
    });

    it('makes the services wait for rmq-init to finish, and rmq-init for the broker', () => {
      const s = services();
      expect(s['rmq-init']!.depends_on?.['rmq-broker']?.condition).toBe('service_healthy');
      for (const app of SAMPLE_APPS) {
        expect(s[`${app}-apache`]!.depends_on?.['rmq-init']?.condition).toBe(
          'service_completed_successfully',
        );
      }
    });
  });
});
