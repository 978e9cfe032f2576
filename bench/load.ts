import { connect, type Socket } from 'node:net';

/** What a load run measured. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  statusCounts: Record<number, number>;
  /** CPU time (user + system, every thread) of this process — the load generator — over the run, in ms. */
  clientCpuMs: number;
}

/** The load generator's CPU per answered request, in ms (this process, every thread, over the run). */
export function clientMsPerRequest(result: LoadResult): number {
  return result.clientCpuMs / Math.max(1, result.requests);
}

/**
 * Sends pre-built HTTP/1.1 requests (from `nextRequest`) over `connections` keep-alive sockets to 127.0.0.1
 * (`port`, or `port(connection)` to spread the connections over several servers),
 * one outstanding request per socket, until `durationMs` passes or the requests run out.
 * The client does no per-request work beyond writing bytes and finding the response's
 * end, so that the server, not the load generator, is what is measured.
 */
export async function runLoad(
  port: number | ((connection: number) => number),
  connections: number,
  durationMs: number,
  nextRequest: (connection: number) => Buffer | undefined,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCounts: Record<number, number> = {};
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;

  await Promise.all(
    Array.from({ length: connections }, (_, connection) => connection).map(
      (connection) =>
        new Promise<void>((resolve, reject) => {
          const socket: Socket = connect(typeof port === 'number' ? port : port(connection), '127.0.0.1');
          socket.setNoDelay(true);
          let sentAt = 0;
          let buffer: Buffer = Buffer.alloc(0);
          const sendNext = () => {
            const request = performance.now() < deadline ? nextRequest(connection) : undefined;
            if (!request) {
              socket.end();
              resolve();
              return;
            }
            sentAt = performance.now();
            socket.write(request);
          };
          socket.on('connect', sendNext);
          socket.on('error', reject);
          socket.on('data', (chunk: Buffer) => {
            buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
            for (;;) {
              const headerEnd = buffer.indexOf('\r\n\r\n');
              if (headerEnd < 0) return;
              const head = buffer.subarray(0, headerEnd).toString('latin1');
              const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
              const total = headerEnd + 4 + length;
              if (buffer.length < total) return;
              const status = Number(head.slice(9, 12));
              statusCounts[status] = (statusCounts[status] ?? 0) + 1;
              if (status !== 200) errors++;
              latencies.push(performance.now() - sentAt);
              buffer = buffer.subarray(total);
              sendNext();
            }
          });
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: pick(0.5),
    p99Ms: pick(0.99),
    statusCounts,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** Frames a JSON POST as raw HTTP/1.1 bytes. */
export function httpPost(path: string, body: string): Buffer {
  const bytes = Buffer.from(body);
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\nconnection: keep-alive\r\n\r\n`,
    ),
    bytes,
  ]);
}
