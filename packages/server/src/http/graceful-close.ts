import { Server as NetServer, type Socket } from 'node:net';
import type { ErrorBody } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';

/** How long closing keeps listening, at most, answering 503, while requests are in flight or just connected. */
export const CLOSE_GRACE_MS = 1_000;

/**
 * How long nothing must have happened (no connection, request or answer) before closing stops
 * listening: a client that just had its answer is often already connecting again, and a
 * connection still in the kernel's backlog when the socket closes is reset.
 */
export const CLOSE_QUIET_MS = 150;

/**
 * Closing without resetting anyone. Once `app.close()` starts, every request that arrives is
 * answered `503 SERVER_BUSY` with `Retry-After: 1` and `Connection: close`, and every answer
 * says `Connection: close`. The listening socket stays open until no request is in flight and
 * no accepted connection is still to send its request, and nothing has happened for
 * {@link CLOSE_QUIET_MS} (at most {@link CLOSE_GRACE_MS} in all) — so a
 * client that backs off on 503 never meets a closed port mid-connect — then it closes; requests
 * still in flight finish, connections left idle are closed, and only then does fastify go on to
 * drain the database work queued behind them. (Node's own `close()` would destroy connections
 * accepted but not yet read as idle, resetting their clients.) Returns whether closing has begun,
 * for the device lane (`device-lane.ts`), which answers outside fastify's hooks.
 */
export function installGracefulClose(app: FastifyInstance): () => boolean {
  let closing = false;
  let inFlight = 0;
  const waiting = new Map<string, Socket>();
  let lastActivity = 0;
  const keyOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  app.server.on('connection', (socket: Socket) => {
    if (closing) lastActivity = Date.now();
    const key = keyOf(socket);
    waiting.set(key, socket);
    socket.once('close', () => waiting.delete(key));
  });
  app.server.on('request', (request: { socket: Socket }, response: { once(event: 'close', f: () => void): void }) => {
    waiting.delete(keyOf(request.socket));
    inFlight++;
    response.once('close', () => {
      inFlight--;
      if (closing) lastActivity = Date.now();
    });
  });

  // Callback hooks, not async ones: they run on every request, and a promise each costs more than the check.
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    const body: ErrorBody = {
      code: 'SERVER_BUSY',
      message: 'The server is shutting down; retry in a moment.',
      requestId: request.id,
    };
    reply.code(503).header('retry-after', '1').send(body);
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', async () => {
    closing = true;
    lastActivity = Date.now();
    const server = app.server;
    if (!server.listening) return;
    const graceEnd = Date.now() + CLOSE_GRACE_MS;
    const busy = () => inFlight > 0 || waiting.size > 0 || Date.now() - lastActivity < CLOSE_QUIET_MS;
    while (busy() && Date.now() < graceEnd) await sleep(10);
    // Stop accepting, without http.Server#close's reaping of connections that look idle; the
    // callback comes once every connection has ended (fastify's own close then finds it closed).
    let ended = false;
    const allEnded = new Promise<void>((resolve) => {
      NetServer.prototype.close.call(server, () => {
        ended = true;
        resolve();
      });
    });
    while (!ended) {
      server.closeIdleConnections();
      await Promise.race([allEnded, sleep(20)]);
    }
  });
  return () => closing;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
