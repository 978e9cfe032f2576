import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectProxyConfig } from './connect-proxy.js';
import { createRootCa, type FakeIssuer, issueTlsCertificate } from './fake-pki.js';

/** A test proxy running as a child process on 127.0.0.1. */
export interface ProxyProcess {
  /** `http://127.0.0.1:PORT` (without credentials). */
  url: string;
  /** `http://user:password@127.0.0.1:PORT` with the given credentials. */
  urlWith(user: string, password: string): string;
  /** The CA of an intercepting proxy (PEM): what an operator imports as a trust point. */
  caPem?: string;
  /** One line per request handled, e.g. `CONNECT 127.0.0.1:4433 200`. */
  log: string[];
  /** Stops the process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of `spawnConnectProxy`. */
export interface SpawnConnectProxyOptions {
  auth?: { user: string; password: string };
  /** Intercept TLS with a certificate from a CA of the proxy's own (`caPem`). */
  intercept?: boolean;
}

/** The compiled entry point; tests under `src/` and code under `dist/` both resolve it in `dist/testing/`. */
const MAIN = fileURLToPath(new URL('../../dist/testing/connect-proxy-main.js', import.meta.url));

/**
 * Starts a real proxy process (`connect-proxy-main.js`, built by `tsc -b`) on 127.0.0.1 and a free
 * port: CONNECT tunnels and absolute-URI forwarding, with Basic authentication or TLS
 * interception when asked.
 */
export async function spawnConnectProxy(options: SpawnConnectProxyOptions = {}): Promise<ProxyProcess> {
  let ca: FakeIssuer | undefined;
  const config: ConnectProxyConfig = options.auth ? { auth: options.auth } : {};
  if (options.intercept) {
    ca = await createRootCa('CN=TLS Forward Proxy v2, OU=Information Security, O=smartlic test proxy', Date.now());
    const leaf = await issueTlsCertificate(ca);
    config.intercept = { certPem: `${leaf.certPem}\n${ca.pem}`, keyPem: leaf.keyPem };
  }
  const child: ChildProcess = spawn(process.execPath, [MAIN, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const log: string[] = [];
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^listening on (http:\/\/\S+)/.exec(line);
        if (match?.[1]) resolve(match[1]);
        else log.push(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`the test proxy exited with ${code}`)));
    child.once('error', reject);
  });
  return {
    url,
    urlWith: (user, password) =>
      url.replace('http://', `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`),
    ...(ca ? { caPem: ca.pem } : {}),
    log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
