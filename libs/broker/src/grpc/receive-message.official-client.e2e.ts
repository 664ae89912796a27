/**
 * The unmodified official client (rocketmq-client-nodejs 1.0.8), in a child process, against
 * GrpcMessagingServer over a real BrokerCore: Telemetry Settings answers let both clients start,
 * the producer's message goes through, and the SimpleConsumer's ReceiveMessage delivers it with its
 * content intact, then acks it.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OfficialClientRoundTrip } from './receive-message-official-client.child.js';
import { startHarness, type GrpcHarness } from './testing/grpc-harness.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'receive-message-official-client.child.ts');
const CHILD_TIMEOUT_MS = 45_000;

function runChild(input: object): Promise<OfficialClientRoundTrip> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', CHILD, JSON.stringify(input)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`official client exited with ${String(code)}:\n${stderr.slice(-4000)}`));
        return;
      }
      resolve(JSON.parse(line) as OfficialClientRoundTrip);
    });
  });
}

describe('the official RocketMQ Node client against the built-in gRPC server', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('a SimpleConsumer receives what a Producer sent, body, tag, keys and properties intact, and acks it', async () => {
    const result = await runChild({
      endpoint: `127.0.0.1:${h.port}`,
      topic: 'official-orders',
      group: 'official-g',
    });

    expect(result.received).toEqual([
      {
        messageId: result.sentMessageId,
        topic: 'official-orders',
        body: '{"order":42,"text":"héllo"}',
        tag: 'created',
        keys: ['order-42', 'customer-7'],
        properties: { region: 'eu-west', amount: '10.50' },
        deliveryAttempt: 1,
      },
    ]);
    expect(result.acked).toBe(true);
    expect(h.core.inFlightCount('official-g')).toBe(0);
    expect(h.logger.errors()).toEqual([]);
  }, 60_000);
});
