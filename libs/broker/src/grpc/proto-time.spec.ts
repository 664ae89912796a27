import { durationOf, millisOfDuration, millisOfTimestamp, timestampOf } from './proto-time.js';

describe('proto time', () => {
  it('reads seconds and nanos as milliseconds', () => {
    expect(millisOfTimestamp({ seconds: 1_700_000_000, nanos: 250_000_000 })).toBe(1_700_000_000_250);
    expect(millisOfDuration({ seconds: 0, nanos: 4_000_000 })).toBe(4);
    expect(millisOfDuration({ seconds: 20, nanos: 500_999_999 })).toBe(20_500);
  });

  it('tells absent from zero', () => {
    expect(millisOfTimestamp(undefined)).toBeUndefined();
    expect(millisOfDuration(null)).toBeUndefined();
    expect(millisOfDuration({})).toBe(0);
  });

  it.each([
    { seconds: 1, nanos: -1 },
    { seconds: 1, nanos: 1_000_000_000 },
    { seconds: 1, nanos: 0.5 },
    { seconds: Infinity, nanos: 0 },
  ])('reads the malformed %j as NaN', (value) => {
    expect(millisOfTimestamp(value)).toBeNaN();
  });

  it('keeps negative durations negative (the core refuses them)', () => {
    expect(millisOfDuration({ seconds: -5, nanos: 0 })).toBe(-5_000);
  });

  it('writes milliseconds back exactly', () => {
    for (const ms of [0, 1, 999, 1_000, 1_700_000_000_123]) {
      expect(millisOfTimestamp(timestampOf(ms))).toBe(ms);
      expect(millisOfDuration(durationOf(ms))).toBe(ms);
    }
    expect(durationOf(-5)).toEqual({ seconds: 0, nanos: 0 });
  });
});
