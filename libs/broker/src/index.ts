export * from './status-code.js';
export * from './store/index.js';
