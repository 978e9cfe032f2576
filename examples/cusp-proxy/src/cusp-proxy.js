// A tiny SIP-proxy-like product: every HTTP request to POST /invite is one "call". It embeds the
// smartlic agent with the CUSP enforcement profile (SPEC §6):
//   - calls are refused with 503 once the evaluation or the authorization expired;
//   - calls are refused with 503 while the 5-minute average calls per second exceeds the
//     licensed rate (the agent's CPS limiter);
//   - in EVAL MODE, AUTHORIZED and OUT OF COMPLIANCE calls go through.

import { createServer } from 'node:http';
import { CUSP_PROFILE, formatStatus } from '@smartlic/agent';

/** The CUSP license this product uses: one license per 5 calls per second. */
export const CUSP_TAG = 'regid.2014-08.com.cisco.CUSP_5CPS,1.0';
/** Calls per second each license of `CUSP_TAG` allows. */
export const CPS_PER_LICENSE = 5;

/**
 * Starts the proxy on `host:port` around an open agent.
 *
 * @param {object} options
 * @param {import('@smartlic/agent').Agent} options.agent the product's agent (`Agent.init` / `Agent.open`)
 * @param {string} [options.host] default 127.0.0.1
 * @param {number} [options.port] default 0 (any free port)
 * @param {boolean} [options.cpsTimer] take CPS snapshots on a timer (default); tests pass false and call `cps.update()`
 */
export async function startCuspProxy({ agent, host = '127.0.0.1', port = 0, cpsTimer = true }) {
  const enforcer = agent.createEnforcer({ profile: CUSP_PROFILE });
  const cps = enforcer.createCpsLimiter({
    licensedCps: () => enforcer.licensedCount(CUSP_TAG) * CPS_PER_LICENSE,
    timer: cpsTimer,
  });

  /** Answers one call: SIP-like status line in the body, the same code as the HTTP status. */
  function handleInvite(response) {
    if (!enforcer.isAllowed()) {
      // Blocked by the license state: EVAL EXPIRED or AUTHORIZATION EXPIRED.
      return answer(response, 503, 'Service Unavailable', enforcer.decision().reason);
    }
    if (!cps.tryCall()) {
      return answer(response, 503, 'Service Unavailable', 'Calls per second above the licensed rate.');
    }
    return answer(response, 200, 'OK', 'Call accepted.');
  }

  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/invite') return handleInvite(response);
    if (request.method === 'GET' && request.url === '/license') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return response.end(`${formatStatus(agent.status())}\n`);
    }
    return answer(response, 404, 'Not Found', 'Only POST /invite and GET /license are served.');
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  return {
    url: `http://${host}:${address.port}`,
    enforcer,
    cps,
    /** Stops accepting calls and the CPS timer; the agent stays open (the host closes it). */
    close: () => {
      cps.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(response, code, phrase, reason) {
  response.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`SIP/2.0 ${code} ${phrase}\r\nReason: ${reason}\r\n`);
}
