import type { ErrorCode } from '@smartlic/protocol';

/** What the CLI knows of the failed call, to fill its hint (the Virtual Account it named). */
export interface HintContext {
  vaId?: string;
}

/**
 * What to do next, in the CLI's own terms, for the error codes where the answer is a command
 * or a flag. The protocol's messages stay neutral (SDK hosts read them too); the CLI appends
 * this sentence to them.
 */
const HINTS: Partial<Record<ErrorCode, (context: HintContext) => string>> = {
  UNAUTHENTICATED: () => 'Pass a valid API key with --api-key KEY or set SMARTLIC_API_KEY.',
  NOT_INITIALISED: () => 'Run `smartlic device init --pid PID` first.',
  RESERVATION_NOT_ALLOWED: ({ vaId }) =>
    `An owner or an admin of the Virtual Account can allow it: smartlic admin reservation allow --va ${vaId ?? 'VA_ID'}`,
};

/** The CLI's hint for `code`, or undefined. */
export function errorHint(code: string | undefined, context: HintContext = {}): string | undefined {
  const hint = code ? HINTS[code as ErrorCode] : undefined;
  return hint?.(context);
}

/** `message` followed by the CLI's hint for `code`, when there is one. */
export function withHint(message: string, code: string | undefined, context: HintContext = {}): string {
  const hint = errorHint(code, context);
  return hint ? `${message} ${hint}` : message;
}
