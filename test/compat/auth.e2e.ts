/**
 * Compatibility proof (issue 4), authentication on: the official client's signed requests
 * (sessionCredentials) are accepted with the right secret; a wrong secret, an unknown access key or
 * no credentials make the client fail with UnauthorizedException (40100); a user's allow lists make
 * it fail with ForbiddenException (40300).
 */
import { type Broker } from '../../libs/broker/src/broker.js';
import { StatusCode } from '../../libs/broker/src/status-code.js';
import { contentOf, expectedContent, uniqueName, setUpCompatWorkspace } from './compat-harness.js';
import {
  type AuthProbe,
  type AuthProbeInput,
  type AuthProbeOutcome,
  type AuthProbeResult,
  type ObservedError,
} from './scenarios/scenario-types.js';

const ALICE = { accessKey: 'alice-ak', secretKey: 'alice-secret-0123456789' };
const BOB = {
  accessKey: 'bob-ak',
  secretKey: 'bob-secret-0123456789',
  topics: ['CompatAuthBob*'],
  groups: ['GID_bob*'],
};

/** The error and its causes (startup() wraps the real error twice). */
function chainOf(error: ObservedError | null): ObservedError[] {
  const chain: ObservedError[] = [];
  for (let e = error; e; e = e.cause) chain.push(e);
  return chain;
}

function expectRefused(outcome: AuthProbeOutcome, step: string, code: number, exception: string): void {
  expect(outcome.failure?.step).toBe(step);
  const chain = chainOf(outcome.failure!.error);
  expect(chain.map((e) => e.code)).toContain(code);
  expect(chain.map((e) => e.name)).toContain(exception);
}

describe('official rocketmq-client-nodejs against the built-in broker with authentication on', () => {
  const workspace = setUpCompatWorkspace();
  let broker: Broker;

  beforeAll(async () => {
    broker = await workspace.startBroker({ auth: { users: [ALICE, BOB] } });
  });

  it('good credentials send and receive; a wrong secret, an unknown key or none are refused (40100); allow lists refuse other topics and groups (40300)', async () => {
    const topic = uniqueName('CompatAuth');
    const bobTopic = uniqueName('CompatAuthBob');
    const message = {
      bodyBase64: Buffer.from('signed').toString('base64'),
      tag: 'auth',
      keys: ['a-1'],
      properties: { p: 'v' },
    };
    const probe = (name: string, extra: Partial<AuthProbe>): AuthProbe => ({
      name,
      topic,
      group: uniqueName('GID_compat_auth'),
      message,
      ...extra,
    });
    const alice = { accessKey: ALICE.accessKey, accessSecret: ALICE.secretKey };
    const bob = { accessKey: BOB.accessKey, accessSecret: BOB.secretKey };
    const input: AuthProbeInput = {
      endpoint: broker.address.endpoint,
      receiveTimeoutMs: 10_000,
      probes: [
        probe('good', { credentials: alice }),
        probe('wrong-secret', { credentials: { ...alice, accessSecret: 'not-the-secret' } }),
        probe('unknown-key', { credentials: { accessKey: 'nobody-ak', accessSecret: ALICE.secretKey } }),
        probe('no-credentials', {}),
        probe('bob-own-topic-and-group', { credentials: bob, topic: bobTopic, group: uniqueName('GID_bob') }),
        probe('bob-other-topic', {
          credentials: bob,
          topic: bobTopic,
          sendTopic: topic,
          group: uniqueName('GID_bob'),
        }),
        probe('bob-other-group', { credentials: bob, topic: bobTopic, group: uniqueName('GID_other') }),
      ],
    };

    const r = await workspace.runScenario<AuthProbeInput, AuthProbeResult>('auth-probe', input, 40_000);
    const outcome = (name: string) => r.outcomes.find((o) => o.name === name)!;

    for (const name of ['good', 'bob-own-topic-and-group']) {
      expect(outcome(name)).toMatchObject({
        failure: null,
        completed: ['producer-startup', 'send', 'consumer-startup', 'receive', 'ack'],
      });
      expect(outcome(name).received!.messageId).toBe(outcome(name).receipt!.messageId);
      expect(contentOf(outcome(name).received!)).toEqual(expectedContent(message));
    }
    for (const name of ['wrong-secret', 'unknown-key', 'no-credentials']) {
      expectRefused(outcome(name), 'producer-startup', StatusCode.UNAUTHORIZED, 'UnauthorizedException');
    }
    expectRefused(outcome('bob-other-topic'), 'send', StatusCode.FORBIDDEN, 'ForbiddenException');
    expect(outcome('bob-other-group').completed).toEqual(['producer-startup', 'send']);
    expect(chainOf(outcome('bob-other-group').failure!.error).map((e) => e.code)).toContain(
      StatusCode.FORBIDDEN,
    );
    // Only the good probe's message reached the topic (the refused sends stored nothing).
    const stored = await broker.core.queryMessagesByKey(topic, 'a-1');
    expect(stored.map((m) => m.messageId)).toEqual([outcome('good').receipt!.messageId]);
  }, 50_000);
});
