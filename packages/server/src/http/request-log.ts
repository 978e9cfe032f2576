import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * One log line per request, when it completes (method, path, status, duration), with the
 * request id under `requestId`, instead of fastify's two lines with full request and reply
 * objects. The query string is never logged: a client may put a secret there (an API key
 * sent as `?api_key=`). Refusals and failures are logged by the error handler with their code.
 */
export class RequestLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Below INFO (a busy server runs at WARN) a success has no line to build.
    if (!error && !infoEnabled(request.log)) return;
    const line = {
      method: request.method,
      url: pathOf(request.url),
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else request.log.info(line, 'request completed');
  }
}

/** Whether a pino logger writes INFO lines (a logger without `isLevelEnabled` is taken to). */
function infoEnabled(log: FastifyRequest['log']): boolean {
  const pino = log as { isLevelEnabled?: (level: string) => boolean };
  return pino.isLevelEnabled === undefined || pino.isLevelEnabled('info');
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const cut = url.indexOf('?');
  return cut === -1 ? url : url.slice(0, cut);
}
