import { backoffOfProto, effectivePolicy, policyOf, DEFAULT_MAX_ATTEMPTS } from './retry-policy.js';

test('exponential: initial × multiplier^(attempt − 1), capped at max', () => {
  const policy = policyOf(5, { initialMs: 100, maxMs: 1_000, multiplier: 3 });
  expect([1, 2, 3, 4, 5].map((a) => policy.nextDelayMs(a))).toEqual([100, 300, 900, 1_000, 1_000]);
});

test('customized: step attempt − 1, the last step repeating', () => {
  const policy = policyOf(9, [10, 20, 50]);
  expect([1, 2, 3, 4, 8].map((a) => policy.nextDelayMs(a))).toEqual([10, 20, 50, 50, 50]);
});

test("the server's policy is read in full (seconds and nanos), not seconds-as-milliseconds", () => {
  const policy = effectivePolicy({
    max_attempts: 4,
    exponential_backoff: { initial: { seconds: 1, nanos: 500_000_000 }, max: { seconds: 10 }, multiplier: 2 },
    strategy: 'exponential_backoff',
  });
  expect(policy.maxAttempts).toBe(4);
  expect([1, 2, 3, 4].map((a) => policy.nextDelayMs(a))).toEqual([1_500, 3_000, 6_000, 10_000]);
  expect(
    backoffOfProto({
      max_attempts: 2,
      customized_backoff: { next: [{ seconds: 0, nanos: 250_000_000 }] },
      strategy: 'customized_backoff',
    }),
  ).toEqual([250]);
});

test("a configured backoff wins over the server's; the server's max attempts win over the configured fallback", () => {
  const server = {
    max_attempts: 3,
    exponential_backoff: { initial: { seconds: 5 }, max: { seconds: 5 }, multiplier: 1 },
  };
  const policy = effectivePolicy(server, { backoff: [42], maxAttempts: 10 });
  expect(policy.maxAttempts).toBe(3);
  expect(policy.nextDelayMs(1)).toBe(42);
  expect(effectivePolicy(undefined, { maxAttempts: 10 }).maxAttempts).toBe(10);
  expect(effectivePolicy(null).maxAttempts).toBe(DEFAULT_MAX_ATTEMPTS);
  expect(effectivePolicy({ max_attempts: 0 }).nextDelayMs(1)).toBe(1_000); // defaults when the server sends nothing usable
});

test('bad configured schedules are refused', () => {
  expect(() => policyOf(3, [])).toThrow(RangeError);
  expect(() => policyOf(3, [-1])).toThrow(RangeError);
  expect(() => policyOf(3, { initialMs: 10, maxMs: 5, multiplier: 2 })).toThrow(RangeError);
  expect(() => policyOf(3, { initialMs: 10, maxMs: 50, multiplier: 0.5 })).toThrow(RangeError);
  expect(() => policyOf(3, { initialMs: NaN, maxMs: 50, multiplier: 2 })).toThrow(RangeError);
});
