/**
 * `@smartlic/protocol/fs`: file helpers shared by the agent and the server (atomic, durable
 * replacement of a file). A separate entry point so that the protocol's other entries stay
 * free of file I/O; importing it does none either, only calling it does.
 */
export * from './atomic-file.js';
