import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../status-code.js';
import {
  BrokerConfigFileError,
  loadBrokerConfigFile,
  MAX_CONFIG_FILE_BYTES,
  parseBrokerConfig,
} from './broker-config-file.js';
import { exponentialSteps } from './resource-specs.js';
import { SpecError } from './spec-reader.js';

const topic = (extra: object = {}) => ({ name: 'orders', ...extra });
const group = (extra: object = {}) => ({ name: 'billing', ...extra });
const user = (extra: object = {}) => ({ accessKey: 'svc', secretKey: 's3cret', ...extra });

function problemOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseBrokerConfig(raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).code).toBe(StatusCode.BAD_REQUEST);
    return (err as SpecError).message;
  }
  throw new Error('expected the config to be refused');
}

describe('broker config file: what is accepted', () => {
  it('reads topics, groups and users with every setting', () => {
    const config = parseBrokerConfig(
      {
        topics: [topic({ queueCount: 4, messageTypes: ['FIFO', 'NORMAL'] }), { name: 'audit' }],
        groups: [
          group({
            fifo: true,
            maxDeliveryAttempts: 5,
            retryBackoff: ['1s', 2500, '1m', '2h', '250ms'],
            consumeFrom: 'last',
          }),
          { name: 'replay', consumeFrom: { timestamp: '2025-01-01T00:00:00Z' } },
          { name: 'epoch', consumeFrom: { timestamp: 1_700_000_000_000 } },
        ],
        users: [
          user({ topics: ['orders', '*', 'audit-*'], groups: ['billing'] }),
          { accessKey: 'ops', secretKey: { env: 'OPS_SECRET' } },
        ],
      },
      { OPS_SECRET: 'from-env' },
    );
    expect(config.topics).toEqual([
      { name: 'orders', queueCount: 4, messageTypes: ['FIFO', 'NORMAL'] },
      { name: 'audit' },
    ]);
    expect(config.groups).toEqual([
      {
        name: 'billing',
        options: {
          fifo: true,
          maxDeliveryAttempts: 5,
          retryBackoffMs: [1_000, 2_500, 60_000, 7_200_000, 250],
          consumeFrom: { kind: 'last' },
        },
      },
      { name: 'replay', options: { consumeFrom: { kind: 'timestamp', timestamp: Date.UTC(2025, 0, 1) } } },
      { name: 'epoch', options: { consumeFrom: { kind: 'timestamp', timestamp: 1_700_000_000_000 } } },
    ]);
    expect(config.users).toEqual([
      { accessKey: 'svc', secretKey: 's3cret', topics: ['orders', '*', 'audit-*'], groups: ['billing'] },
      { accessKey: 'ops', secretKey: 'from-env' },
    ]);
  });

  it('treats an empty document as nothing to apply', () => {
    expect(parseBrokerConfig({})).toEqual({ topics: [], groups: [], users: [] });
  });

  it('expands an exponential retry policy into steps capped at max (the last step repeats in the core)', () => {
    const config = parseBrokerConfig({
      groups: [group({ retryBackoff: { initial: '1s', max: '10s', multiplier: 3 } })],
    });
    expect(config.groups[0]!.options.retryBackoffMs).toEqual([1_000, 3_000, 9_000, 10_000]);
    expect(exponentialSteps(1_000, 1_000, 2)).toEqual([1_000]);
    expect(exponentialSteps(5, 60_000, 1)).toEqual([5]);
    // Bounded by the core's 64 steps even when max is far away.
    expect(exponentialSteps(1, 43_200_000, 1.01)).toHaveLength(64);
  });

  it('defaults the exponential multiplier to 2', () => {
    const config = parseBrokerConfig({ groups: [group({ retryBackoff: { initial: 100, max: 1_000 } })] });
    expect(config.groups[0]!.options.retryBackoffMs).toEqual([100, 200, 400, 800, 1_000]);
  });
});

describe('broker config file: each mistake is named by its path', () => {
  it.each<[string, unknown, RegExp]>([
    ['a list at the top', [], /^must be an object, got a list/],
    [
      'an unknown top-level key',
      { topic: [] },
      /^topic is not a known setting \(allowed here: topics, groups, users\)/,
    ],
    ['topics not a list', { topics: {} }, /^topics must be a list, got an object/],
    ['a topic that is not an object', { topics: ['orders'] }, /^topics\[0\] must be an object, got "orders"/],
    [
      'a topic without a name',
      { topics: [{ queueCount: 2 }] },
      /^topics\[0\]\.name must be a non-empty string, got nothing/,
    ],
    [
      'an unknown topic key',
      { topics: [topic({ queues: 2 })] },
      /^topics\[0\]\.queues is not a known setting/,
    ],
    [
      'a queue count of 0',
      { topics: [topic(), { name: 'b' }, topic({ name: 'c', queueCount: 0 })] },
      /^topics\[2\]\.queueCount must be an integer 1\.\.1024, got 0/,
    ],
    [
      'a fractional queue count',
      { topics: [topic({ queueCount: 1.5 })] },
      /^topics\[0\]\.queueCount must be an integer/,
    ],
    [
      'a queue count as a string',
      { topics: [topic({ queueCount: '8' })] },
      /^topics\[0\]\.queueCount must be an integer 1\.\.1024, got "8"/,
    ],
    [
      'too many queues',
      { topics: [topic({ queueCount: 1025 })] },
      /queueCount must be an integer 1\.\.1024, got 1025/,
    ],
    [
      'an unknown message type',
      { topics: [topic({ messageTypes: ['NORMAL', 'MIXED'] })] },
      /^topics\[0\]\.messageTypes\[1\] must be one of NORMAL, FIFO, DELAY, TRANSACTION, got "MIXED"/,
    ],
    [
      'no message types',
      { topics: [topic({ messageTypes: [] })] },
      /^topics\[0\]\.messageTypes must name at least one/,
    ],
    [
      'a repeated message type',
      { topics: [topic({ messageTypes: ['FIFO', 'FIFO'] })] },
      /^topics\[0\]\.messageTypes\[1\] repeats "FIFO"/,
    ],
    [
      'an illegal topic name',
      { topics: [topic({ name: 'a b' })] },
      /^topics\[0\]\.name is invalid: illegal topic "a b": contains illegal characters/,
    ],
    [
      'a system topic',
      { topics: [topic({ name: 'TBW102' })] },
      /^topics\[0\]\.name is invalid: .*system topic/,
    ],
    [
      'a DLQ topic',
      { topics: [topic({ name: '%DLQ%billing' })] },
      /^topics\[0\]\.name is invalid: .*reserved/,
    ],
    [
      'a topic listed twice',
      { topics: [topic(), { name: 'x' }, topic()] },
      /^topics\[2\]\.name "orders" is already defined at topics\[0\]/,
    ],
    [
      'fifo as a string',
      { groups: [group({ fifo: 'yes' })] },
      /^groups\[0\]\.fifo must be true or false, got "yes"/,
    ],
    [
      'zero delivery attempts',
      { groups: [group({ maxDeliveryAttempts: 0 })] },
      /^groups\[0\]\.maxDeliveryAttempts must be an integer 1\.\.1000, got 0/,
    ],
    [
      'an unknown group key',
      { groups: [group({ orderly: true })] },
      /^groups\[0\]\.orderly is not a known setting \(allowed here: name, fifo, maxDeliveryAttempts, retryBackoff, consumeFrom\)/,
    ],
    [
      'an illegal group name',
      { groups: [group({ name: 'CID_RMQ_SYS_X' })] },
      /^groups\[0\]\.name is invalid: .*system consumer group/,
    ],
    [
      'a group listed twice',
      { groups: [group(), group()] },
      /^groups\[1\]\.name "billing" is already defined at groups\[0\]/,
    ],
    [
      'an empty backoff',
      { groups: [group({ retryBackoff: [] })] },
      /^groups\[0\]\.retryBackoff must have 1\.\.64 steps, got 0/,
    ],
    [
      'a backoff step of 0',
      { groups: [group({ retryBackoff: ['1s', 0] })] },
      /^groups\[0\]\.retryBackoff\[1\] must be between 1 ms and 43200000 ms, got 0/,
    ],
    [
      'a backoff step over 12 h',
      { groups: [group({ retryBackoff: ['13h'] })] },
      /^groups\[0\]\.retryBackoff\[0\] must be between 1 ms and 43200000 ms, got "13h"/,
    ],
    [
      'a malformed duration',
      { groups: [group({ retryBackoff: ['10 sec'] })] },
      /^groups\[0\]\.retryBackoff\[0\] must be a duration/,
    ],
    [
      'a backoff that is a string',
      { groups: [group({ retryBackoff: '10s' })] },
      /^groups\[0\]\.retryBackoff must be a list of durations or \{initial, max, multiplier\}/,
    ],
    [
      'a policy with an unknown key',
      { groups: [group({ retryBackoff: { initial: '1s', max: '1m', factor: 2 } })] },
      /^groups\[0\]\.retryBackoff\.factor is not a known setting/,
    ],
    [
      'a policy without initial',
      { groups: [group({ retryBackoff: { max: '1m' } })] },
      /^groups\[0\]\.retryBackoff\.initial must be a duration/,
    ],
    [
      'a policy whose max is below initial',
      { groups: [group({ retryBackoff: { initial: '1m', max: '1s' } })] },
      /^groups\[0\]\.retryBackoff\.max must not be shorter than initial \(60000 ms\), got 1000 ms/,
    ],
    [
      'a multiplier below 1',
      { groups: [group({ retryBackoff: { initial: '1s', max: '1m', multiplier: 0.5 } })] },
      /^groups\[0\]\.retryBackoff\.multiplier must be a number 1\.\.10, got 0.5/,
    ],
    [
      'an unknown consumeFrom',
      { groups: [group({ consumeFrom: 'newest' })] },
      /^groups\[0\]\.consumeFrom must be "first", "last" or \{"timestamp": …\}, got "newest"/,
    ],
    [
      'a zone-less timestamp',
      { groups: [group({ consumeFrom: { timestamp: '2025-01-01T00:00:00' } })] },
      /^groups\[0\]\.consumeFrom\.timestamp must be milliseconds since the epoch or an ISO-8601 time with a zone/,
    ],
    [
      'a negative timestamp',
      { groups: [group({ consumeFrom: { timestamp: -1 } })] },
      /^groups\[0\]\.consumeFrom\.timestamp must be milliseconds/,
    ],
    [
      'a user without a secret',
      { users: [{ accessKey: 'svc' }] },
      /^users\[0\]\.secretKey must be a non-empty string or \{"env": "NAME"\}, got nothing/,
    ],
    [
      'an access key with a comma',
      { users: [user({ accessKey: 'a,b' })] },
      /^users\[0\]\.accessKey must be at most 256 characters without spaces/,
    ],
    [
      'an unknown user key',
      { users: [user({ password: 'x' })] },
      /^users\[0\]\.password is not a known setting/,
    ],
    [
      'a secret env var that is not set',
      { users: [user({ secretKey: { env: 'NOPE_SECRET' } })] },
      /^users\[0\]\.secretKey\.env names environment variable NOPE_SECRET, which is not set/,
    ],
    [
      'a secret object with another key',
      { users: [user({ secretKey: { file: '/etc/x' } })] },
      /^users\[0\]\.secretKey\.file is not a known setting \(allowed here: env\)/,
    ],
    [
      'an allow list that is not a list',
      { users: [user({ topics: 'orders' })] },
      /^users\[0\]\.topics must be a list, got "orders"/,
    ],
    [
      'an illegal name in an allow list',
      { users: [user({ groups: ['ok', 'bad name'] })] },
      /^users\[0\]\.groups\[1\] is invalid: illegal consumer group "bad name"/,
    ],
    [
      'a wildcard in the middle of a name',
      { users: [user({ topics: ['a*b'] })] },
      /^users\[0\]\.topics\[0\] is invalid: illegal topic "a\*b"/,
    ],
    [
      'a prefix wildcard with an illegal prefix',
      { users: [user({ topics: ['a b*'] })] },
      /^users\[0\]\.topics\[0\] must be a name, "\*" or "<prefix>\*"/,
    ],
    [
      'an access key listed twice',
      { users: [user(), user({ secretKey: 'other' })] },
      /^users\[1\]\.accessKey "svc" is already defined at users\[0\]/,
    ],
  ])('refuses %s', (_what, raw, message) => {
    expect(problemOf(raw)).toMatch(message);
  });
});

describe('broker config file on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rn-broker-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('loads a valid file, secrets from the given environment', () => {
    const path = write(
      'broker.json',
      JSON.stringify({ topics: [topic()], users: [user({ secretKey: { env: 'S' } })] }),
    );
    expect(loadBrokerConfigFile(path, { S: 'x' })).toEqual({
      topics: [{ name: 'orders' }],
      groups: [],
      users: [{ accessKey: 'svc', secretKey: 'x' }],
    });
  });

  it('names the file and the path of an invalid value', () => {
    const path = write('broker.json', JSON.stringify({ topics: [topic({ queueCount: 0 })] }));
    expect(() => loadBrokerConfigFile(path, {})).toThrow(BrokerConfigFileError);
    expect(() => loadBrokerConfigFile(path, {})).toThrow(
      `${path}: topics[0].queueCount must be an integer 1..1024, got 0`,
    );
  });

  it('refuses a file that is not JSON, naming it', () => {
    const path = write('broker.yaml', 'topics:\n  - name: orders\n');
    expect(() => loadBrokerConfigFile(path, {})).toThrow(new RegExp(`^${path}: is not valid JSON`));
  });

  it('refuses a missing file and a directory with a clear reason', () => {
    expect(() => loadBrokerConfigFile(join(dir, 'nope.json'), {})).toThrow(
      /nope\.json: cannot read the broker config: no such file/,
    );
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(() => loadBrokerConfigFile(sub, {})).toThrow(/sub: cannot read the broker config: is a directory/);
  });

  it('refuses a file larger than the limit without parsing it', () => {
    const path = write('huge.json', Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, 0x20));
    expect(() => loadBrokerConfigFile(path, {})).toThrow(/huge\.json: is 4194305 bytes, more than 4194304/);
  });
});
