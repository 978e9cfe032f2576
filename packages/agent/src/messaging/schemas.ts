import {
  type AuthorizeRequest,
  type AuthorizeResponse,
  type ConvertRequest,
  type ConvertResponse,
  DEVICE_ROUTES,
  type DeregisterRequest,
  type DeregisterResponse,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  type RegisterRequest,
  type RegisterResponse,
  type RenewIdRequest,
  type RenewIdResponse,
} from '@smartlic/protocol';

/** The device message types. */
export type MessageKind = keyof typeof RESPONSE_SCHEMAS;

/** The request payload of each message type. */
export interface RequestPayloads {
  register: RegisterRequest;
  authorize: AuthorizeRequest;
  'renew-id': RenewIdRequest;
  deregister: DeregisterRequest;
  convert: ConvertRequest;
}

/** The response payload of each message type. */
export interface ResponsePayloads {
  register: RegisterResponse;
  authorize: AuthorizeResponse;
  'renew-id': RenewIdResponse;
  deregister: DeregisterResponse;
  convert: ConvertResponse;
}

/** The route each message type is posted to. */
export const ROUTE_OF: Record<MessageKind, string> = {
  register: DEVICE_ROUTES.register,
  authorize: DEVICE_ROUTES.authorize,
  'renew-id': DEVICE_ROUTES.renewId,
  deregister: DEVICE_ROUTES.deregister,
  convert: DEVICE_ROUTES.convert,
};

/** A schema check's answer: the typed value, or the first problem found. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

interface SafeParser {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: unknown[] } };
}

function parseWith<T>(schema: SafeParser, value: unknown): Parsed<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data as T };
  const issue = result.error.issues[0] as { path?: PropertyKey[]; message?: string } | undefined;
  const where = issue?.path?.length ? issue.path.map(String).join('.') : 'payload';
  return { ok: false, problem: `${where}: ${issue?.message ?? 'invalid'}` };
}

/** Checks a request payload against the protocol schema before it is signed and sent. */
export function parseRequest<K extends MessageKind>(kind: K, value: unknown): Parsed<RequestPayloads[K]> {
  return parseWith(REQUEST_SCHEMAS[kind] as unknown as SafeParser, value);
}

/** Checks a response payload against the protocol schema. */
export function parseResponse<K extends MessageKind>(kind: K, value: unknown): Parsed<ResponsePayloads[K]> {
  return parseWith(RESPONSE_SCHEMAS[kind] as unknown as SafeParser, value);
}
