/**
 * `./x509.js` (@peculiar/x509 with its WebCrypto provider) loaded on first use: it is only
 * needed to create the PKI, issue the TLS certificate and in tests, and loading it costs about
 * a quarter of a server's start-up.
 */
export function loadX509(): Promise<typeof import('./x509.js')> {
  return import('./x509.js');
}
