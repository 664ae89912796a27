/**
 * The worker side of IndexThread: owns the IndexService (its files, slot table and staging) and
 * applies what the store's thread sends, strictly in order. See index-thread.ts for why.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type StoreLogger } from './dispatch-request.js';
import { IndexService, type IndexServiceOptions } from './index-service.js';
import {
  ENTRY_FIELDS,
  type IndexThreadReply,
  type IndexThreadRequest,
  type IndexThreadOptions,
} from './index-thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('index-thread-worker must run in a worker thread');

const logger: StoreLogger = {
  log: (message) => port.postMessage({ type: 'log', level: 'log', message } satisfies IndexThreadReply),
  warn: (message) => port.postMessage({ type: 'log', level: 'warn', message } satisfies IndexThreadReply),
  error: (message) => port.postMessage({ type: 'log', level: 'error', message } satisfies IndexThreadReply),
};

const options = workerData as IndexThreadOptions;
const serviceOptions: IndexServiceOptions = { ...options, logger };
const index = new IndexService(serviceOptions);

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

try {
  index.load();
  port.postMessage({ type: 'loaded', maxPhysicalOffset: index.maxPhysicalOffset } satisfies IndexThreadReply);
} catch (err) {
  port.postMessage({ type: 'loadFailed', message: errorMessage(err) } satisfies IndexThreadReply);
}

/** Applies a chunk of (hash, physicalOffset, timestamp) triples; reports the first failure once. */
function applyEntries(data: Float64Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const at = i * ENTRY_FIELDS;
    const physicalOffset = data[at + 1]!;
    try {
      index.putHashed(data[at]!, physicalOffset, data[at + 2]!);
    } catch (err) {
      port!.postMessage({
        type: 'failed',
        physicalOffset,
        message: errorMessage(err),
      } satisfies IndexThreadReply);
      return;
    }
  }
}

function handle(request: IndexThreadRequest): unknown {
  switch (request.op) {
    case 'entries':
      applyEntries(request.data, request.count);
      return undefined;
    case 'commit':
      index.commit();
      return undefined;
    case 'flush':
      index.flush();
      return index.maxPhysicalOffset;
    case 'lookupMessageId':
      return index.lookupMessageId(request.messageId, request.maxResults);
    case 'lookupKey':
      return index.lookupKey(request.topic, request.key, request.maxResults, request.begin, request.end);
    case 'truncateAbove':
      index.truncateAbove(request.offset);
      return undefined;
    case 'deleteFilesBelow':
      return index.deleteFilesBelow(request.offset);
    case 'close':
      index.close();
      return undefined;
  }
}

port.on('message', (request: IndexThreadRequest) => {
  let reply: IndexThreadReply | undefined;
  try {
    const result = handle(request);
    if ('id' in request && request.id !== undefined) reply = { type: 'reply', id: request.id, result };
  } catch (err) {
    if ('id' in request && request.id !== undefined)
      reply = { type: 'reply', id: request.id, error: errorMessage(err) };
    else if (request.op !== 'entries')
      logger.error(`index thread: ${request.op} failed: ${errorMessage(err)}`);
  }
  if (reply) port.postMessage(reply);
  if (request.op === 'close') port.close();
});
