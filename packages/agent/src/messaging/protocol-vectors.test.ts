import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type MessageKind, parseRequest } from './schemas.js';
import { checkSignature, parseEnvelope } from './verify-response.js';

const vectors = <T>(name: string): T[] =>
  JSON.parse(readFileSync(new URL(`../../../protocol/vectors/${name}`, import.meta.url), 'utf8')) as T[];

interface SignatureVector {
  name: string;
  publicKeyPem: string;
  envelope: unknown;
  valid: boolean;
}
interface MessageVector {
  name: string;
  type: MessageKind;
  message: unknown;
  valid: boolean;
}

describe('protocol vectors through the agent', () => {
  it.each(vectors<SignatureVector>('signatures.json').map((v) => [v.name, v] as const))(
    'signatures.json: %s',
    (_, vector) => {
      const envelope = parseEnvelope(vector.envelope);
      const verified = envelope !== undefined && checkSignature(envelope, createPublicKey(vector.publicKeyPem));
      expect(verified).toBe(vector.valid);
    },
  );

  it.each(vectors<MessageVector>('messages.json').map((v) => [v.name, v] as const))(
    'messages.json: %s',
    (_, vector) => {
      expect(parseRequest(vector.type, vector.message).ok).toBe(vector.valid);
    },
  );
});
