import { createMessageId, decodeMessageId } from './message-id.js';

describe('message ids', () => {
  it('are 34 upper-case hex digits: version 01, machine, pid, seconds since 2021, sequence', () => {
    const now = Date.UTC(2025, 5, 1, 12, 0, 0);
    const id = createMessageId(now);
    expect(id).toMatch(/^01[0-9A-F]{32}$/);
    const fields = decodeMessageId(id);
    expect(fields.version).toBe(1);
    expect(fields.pid).toBe(process.pid & 0xffff);
    expect(fields.secondsSince2021).toBe((now - Date.UTC(2021, 0, 1)) / 1000);
    expect(fields.machine).toMatch(/^[0-9A-F]{12}$/);
  });

  it('differ by sequence within one second, and never repeat in a burst', () => {
    const ids = Array.from({ length: 10_000 }, () => createMessageId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    const a = decodeMessageId(ids[0]!).sequence;
    expect(decodeMessageId(ids[1]!).sequence).toBe((a + 1) >>> 0);
  });
});
