import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

/** @peculiar/x509 with Node's WebCrypto as its provider; import it from here. */
export { x509 };

/** ECDSA P-256 with SHA-256: how every certificate of the authority is signed. */
export const ES256_SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
