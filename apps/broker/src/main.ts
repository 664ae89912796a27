import { MessageStore } from '@rocketnest/broker';
import { BrokerConfigError, readBrokerConfig } from './broker-config.js';

/**
 * The standalone built-in broker process. Today it hosts the durable store (recovery, flush,
 * checkpoints, retention); the RocketMQ gRPC endpoint on BROKER_HOST:BROKER_PORT is added by the
 * gRPC issue. SIGTERM / SIGINT flush, checkpoint and exit 0.
 */
async function main(): Promise<void> {
  const config = readBrokerConfig();
  const store = await MessageStore.open({
    dataDir: config.dataDir,
    flushMode: config.flushMode,
    segmentSize: config.segmentSize,
    preallocate: config.preallocate,
    storeHost: `${config.host}:${config.port}`,
  });
  const report = store.recoveryReport;
  console.log(
    `[broker] store open at ${config.dataDir} (${config.flushMode} flush, log ends at ${report?.endOffset ?? 0}, ` +
      `recovered in ${report?.durationMs ?? 0} ms${report?.abnormal ? ' after an abnormal exit' : ''})`,
  );
  console.log(`[broker] topics: ${store.topics().join(', ') || '(none yet)'}; press Ctrl+C to stop`);
  const keepAlive = setInterval(() => undefined, 1 << 30);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`[broker] ${signal}: flushing and checkpointing`);
    clearInterval(keepAlive);
    store.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[broker] close failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof BrokerConfigError ? `[broker] ${err.message}` : err);
  process.exit(1);
});
