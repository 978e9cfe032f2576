import tls from 'node:tls';

const MAX_CONTEXTS = 8;
const contexts = new Map<string, tls.SecureContext>();

/**
 * The TLS context of an HTTPS connection: the platform's public roots plus `extra` (the
 * authority root, imported trust points). Parsing the ~140 public roots costs about 2 MB, so
 * a context is built once per distinct set of anchors and reused by every request, instead of
 * each connection parsing them again.
 */
export function trustContext(extra: readonly string[] = []): tls.SecureContext {
  const key = extra.join('\n');
  let context = contexts.get(key);
  if (!context) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] });
    contexts.set(key, context);
  }
  return context;
}
