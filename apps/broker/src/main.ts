import { Broker } from '@rocketnest/broker/broker.js';
import { type BrokerCoreLogger, RocketError } from '@rocketnest/broker';
import { BrokerConfigError, brokerOptionsOf, readBrokerConfig } from './broker-config.js';

/**
 * The standalone built-in broker: the RocketMQ 5 gRPC endpoint on BROKER_HOST:BROKER_PORT and the
 * admin API on BROKER_ADMIN_HOST:BROKER_ADMIN_PORT, over the store in BROKER_DATA_DIR, with the
 * topics, groups and users of BROKER_CONFIG (README lists every variable). SIGTERM / SIGINT close
 * the endpoints, flush, checkpoint and exit 0; a start that fails (bad setting, bad config file,
 * port in use, data directory held by another broker) says why on one line and exits 1.
 */
const logger: BrokerCoreLogger = {
  log: (m) => console.log(`[broker] ${m}`),
  warn: (m) => console.warn(`[broker] ${m}`),
  error: (m) => console.error(`[broker] ${m}`),
};

/** Errors the operator causes and can fix: their message is the whole story, no stack. */
function isOperatorError(err: unknown): err is Error {
  return (
    err instanceof BrokerConfigError ||
    err instanceof RangeError ||
    err instanceof RocketError ||
    (err instanceof Error && /cannot listen/.test(err.message))
  );
}

async function main(): Promise<void> {
  const state: { broker?: Broker; signal?: string } = {};
  const stop = (signal: string): void => {
    if (state.signal !== undefined) return;
    state.signal = signal;
    if (!state.broker) return; // still starting: stopped as soon as the start completes
    logger.log(`${signal}: closing (flush and checkpoint)`);
    state.broker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`close failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const config = readBrokerConfig();
  logger.log(
    `starting: data in ${config.dataDir} (${config.flushMode} flush)` +
      (config.configFile ? `, config ${config.configFile}` : ''),
  );
  state.broker = await Broker.start({ ...brokerOptionsOf(config), logger });
  const pending = state.signal;
  if (pending !== undefined) {
    state.signal = undefined;
    stop(pending);
  }
}

main().catch((err: unknown) => {
  if (isOperatorError(err)) logger.error(`cannot start: ${err.message}`);
  else logger.error(`cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
