// A tiny video-conferencing registrar (an Expressway-like product): room systems register and
// unregister over HTTP, and each registration holds one license of `ROOM_TAG` while it lasts.
// It embeds the smartlic agent with the Expressway enforcement profile (SPEC §6):
//   - registrations beyond the licensed count are refused with "License limit exceeded", and the
//     agent raises the alarm "Room system license limit reached. … You are licensed for N
//     concurrent TelePresence room system registrations." (once per time the limit is reached);
//   - in evaluation the 90-day countdown is shown; once the evaluation or the authorization
//     expired the product is restricted: cluster changes are refused.

import { createServer } from 'node:http';
import { CLUSTER_CHANGES, EXPRESSWAY_PROFILE, EXPRESSWAY_RESOURCES, formatStatus } from '@smartlic/agent';

/** The room-system registration license. */
export const ROOM_TAG = 'regid.2016-07.com.cisco.EXP-RMS,1.0';

/**
 * Starts the registrar on `host:port` around an open agent.
 *
 *   PUT    /rooms/NAME     a room system registers (idempotent)       200 | 403 License limit exceeded
 *   DELETE /rooms/NAME     it unregisters, freeing its license        200 | 404
 *   POST   /cluster/peers  a cluster change                           200 | 403 while restricted
 *   GET    /alarms         the license alarms (newest last), as JSON
 *   GET    /license        `show license status` and the evaluation countdown
 *
 * @param {object} options
 * @param {import('@smartlic/agent').Agent} options.agent the product's agent (`Agent.init` / `Agent.open`)
 * @param {string} [options.host] default 127.0.0.1
 * @param {number} [options.port] default 0 (any free port)
 */
export async function startRoomsRegistrar({ agent, host = '127.0.0.1', port = 0 }) {
  const enforcer = agent.createEnforcer({
    profile: EXPRESSWAY_PROFILE,
    resources: { [ROOM_TAG]: EXPRESSWAY_RESOURCES.roomSystem },
  });
  /** The room systems registered now. Counted uses live in memory: after a restart rooms register again. */
  const rooms = new Set();

  function register(name) {
    if (rooms.has(name)) return reply(200, { registered: name, rooms: rooms.size });
    const result = enforcer.acquire(ROOM_TAG);
    if (!result.ok) return reply(403, { error: result.reason, licensed: result.licensed, rooms: rooms.size });
    rooms.add(name);
    return reply(200, { registered: name, rooms: rooms.size, licensed: result.licensed });
  }

  function unregister(name) {
    if (!rooms.delete(name)) return reply(404, { error: `${name} is not registered.` });
    enforcer.release(ROOM_TAG);
    return reply(200, { unregistered: name, rooms: rooms.size });
  }

  function clusterChange() {
    if (!enforcer.isAllowed(CLUSTER_CHANGES)) return reply(403, { error: enforcer.decision().reason });
    return reply(200, { changed: true });
  }

  async function alarms() {
    const log = await agent.eventLog();
    return reply(
      200,
      log.filter((e) => e.type === 'LICENSE_LIMIT_REACHED').map((e) => ({ name: e.name, message: e.message })),
    );
  }

  function license() {
    const { status, decision, evaluationRemainingMs } = enforcer.decision();
    const days = Math.ceil(evaluationRemainingMs / 86_400_000);
    const countdown = status === 'EVAL MODE' ? `Evaluation: ${days} days left\n` : '';
    return { code: 200, text: `${countdown}Enforcement: ${decision}\n${formatStatus(agent.status())}\n` };
  }

  const server = createServer(async (request, response) => {
    const [, first, name] = (request.url ?? '').split('/');
    let answer;
    if (first === 'rooms' && name && request.method === 'PUT') answer = register(decodeURIComponent(name));
    else if (first === 'rooms' && name && request.method === 'DELETE') answer = unregister(decodeURIComponent(name));
    else if (request.url === '/cluster/peers' && request.method === 'POST') answer = clusterChange();
    else if (request.url === '/alarms' && request.method === 'GET') answer = await alarms();
    else if (request.url === '/license' && request.method === 'GET') answer = license();
    else answer = reply(404, { error: 'Not found.' });
    if (answer.text !== undefined) {
      response.writeHead(answer.code, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(answer.text);
    } else {
      response.writeHead(answer.code, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  return {
    url: `http://${host}:${server.address().port}`,
    enforcer,
    /** Stops the registrar; the agent stays open (the host closes it). */
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function reply(code, body) {
  return { code, body };
}
