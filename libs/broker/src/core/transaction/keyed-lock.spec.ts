import { KeyedLock } from './keyed-lock.js';

describe('KeyedLock', () => {
  it('runs operations on one key one after the other, other keys in parallel', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const step = (name: string, ms: number) => async (): Promise<string> => {
      log.push(`${name}>`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`<${name}`);
      return name;
    };
    const results = await Promise.all([
      lock.run('a', step('a1', 20)),
      lock.run('a', step('a2', 1)),
      lock.run('b', step('b1', 5)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('<a1')).toBeLessThan(log.indexOf('a2>'));
    expect(log.indexOf('b1>')).toBeLessThan(log.indexOf('<a1'));
    await lock.settled();
    await new Promise((r) => setImmediate(r));
    expect(lock.size).toBe(0);
  });

  it('starts synchronously when the key is free, and a failure does not block the next one', async () => {
    const lock = new KeyedLock();
    let started = false;
    const first = lock.run('k', async () => {
      started = true;
      throw new Error('boom');
    });
    expect(started).toBe(true);
    await expect(first).rejects.toThrow('boom');
    await expect(lock.run('k', async () => 7)).resolves.toBe(7);
  });
});
