export * from './status-code.js';
export * from './store/index.js';
export * from './core/index.js';
