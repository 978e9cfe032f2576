// The product's entry point: opens (or creates) the device's licensing state, points it at the
// authority, declares the licenses it uses, registers once with a token, starts the registrar and
// keeps the agent's renewals running.
//
//   node src/main.js --server URL --root ROOT_CA.pem [--token TOKEN] [--rooms 2] [--state DIR] [--port 5081]

import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, formatEvent } from '@smartlic/agent';
import { ROOM_TAG, startRoomsRegistrar } from './rooms-registrar.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    root: { type: 'string' },
    token: { type: 'string' },
    rooms: { type: 'string', default: '2' },
    state: { type: 'string', default: './expressway-state' },
    port: { type: 'string', default: '5081' },
  },
});

const options = { stateDir: values.state, onEvent: (event) => console.log(formatEvent(event)) };
const agent = existsSync(`${values.state}/state.json`)
  ? await Agent.open(options)
  : await Agent.init({ pid: 'EXPWY-VM', hostname: 'expressway-1', profile: 'expressway' }, options);
if (values.server) {
  const authorityRootPem = values.root ? readFileSync(values.root, 'utf8') : undefined;
  await agent.setDestination(values.server, authorityRootPem ? { authorityRootPem } : {});
}
await agent.use(ROOM_TAG, Number(values.rooms));
if (values.token) {
  const outcome = await agent.register(values.token);
  if (!outcome.ok) console.error(`Registration failed: ${outcome.message}`);
}

const registrar = await startRoomsRegistrar({ agent, port: Number(values.port) });
console.log(
  `expressway-rooms listening on ${registrar.url} (PUT/DELETE /rooms/NAME, POST /cluster/peers, GET /alarms, GET /license)`,
);

// Renewals: run what is due, then sleep until the next wake-up (at most an hour).
let timer;
async function loop() {
  await agent.runDue();
  const wakeAt = agent.nextWakeAt() ?? Date.now() + 3_600_000;
  timer = setTimeout(loop, Math.min(Math.max(wakeAt - Date.now(), 1000), 3_600_000));
}
await loop();

process.on('SIGINT', async () => {
  clearTimeout(timer);
  await registrar.close();
  await agent.close();
  process.exit(0);
});
