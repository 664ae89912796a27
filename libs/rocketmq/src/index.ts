/** `@rocketnest/rocketmq`: the product's face. The client first; the Nest layer comes on top of it. */
export * from './client/index.js';
