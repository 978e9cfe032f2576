import type { Logger as PinoLogger } from 'pino';

/** The logger every part of the server takes: pino's, or a child of it. */
export type Logger = PinoLogger;
