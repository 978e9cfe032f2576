import { readFileSync } from 'node:fs';
import { VECTORS_DIR } from '../../../protocol/src/vectors.js';

export type { MessageVector, SignatureVector } from '../../../protocol/src/vectors.js';

/** A protocol test vector file (`packages/protocol/vectors/<name>.json`), with the protocol's vector types. */
export function loadVectors<T>(name: 'messages' | 'signatures' | 'canonical'): T[] {
  return JSON.parse(readFileSync(`${VECTORS_DIR}${name}.json`, 'utf8')) as T[];
}
