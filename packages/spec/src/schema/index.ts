export * from './config.js';
export * from './features.js';
export * from './state.js';
