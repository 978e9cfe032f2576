export * from './canonical.js';
export * from './clock.js';
export * from './errors.js';
export * from './messages.js';
export * from './pki.js';
export * from './signing.js';
export * from './timers.js';
export * from './vectors.js';
