/** `@rocketnest/rocketmq`: the product's face. The client, and the Nest layer on top of it. */
export * from './client/index.js';
export * from './nest/index.js';
// Both layers have a `TransactionChecker`: the root name is the Nest decorator; the client's
// function type (the producer's `checker` option) keeps a name of its own here.
export { TransactionChecker } from './nest/index.js';
export { type TransactionChecker as TransactionCheckerFunction } from './client/index.js';
