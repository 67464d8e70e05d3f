/** Device identity, device IDs, TLS with pinned fingerprints, and the trusted devices list. */
export * from './device-id.js';
export * from './identity.js';
export * from './tls.js';
export * from './trust-store.js';
