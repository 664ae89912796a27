import { createServer, type Server } from 'node:net';
import { commandOf, pidListeningOn, sampleProc, usageBetween } from './proc-stats.js';

describe('broker process stats from /proc', () => {
  it('reads CPU seconds and resident memory of a live process', () => {
    const before = sampleProc(process.pid)!;
    const until = Date.now() + 50;
    while (Date.now() < until); // burn a little CPU
    const after = sampleProc(process.pid)!;
    expect(after.rssMb).toBeGreaterThan(1);
    expect(after.peakRssMb).toBeGreaterThanOrEqual(after.rssMb);
    expect(usageBetween(before, after)!.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(after.cpuSeconds).toBeGreaterThanOrEqual(before.cpuSeconds);
  });

  it('has nothing to say about a process that does not exist', () => {
    expect(sampleProc(2 ** 22 + 1)).toBeUndefined();
    expect(usageBetween(undefined, sampleProc(process.pid))).toBeUndefined();
  });

  it('finds the process listening on a port, and none on a closed one', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      expect(pidListeningOn(port)).toBe(process.pid);
      expect(commandOf(process.pid)).toBe('node');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(pidListeningOn(1)).toBeUndefined();
  });
});
