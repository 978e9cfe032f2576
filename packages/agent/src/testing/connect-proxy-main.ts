// A test HTTP proxy as a process of its own: `node connect-proxy-main.js '<ConnectProxyConfig JSON>'`.
// Prints `listening on http://127.0.0.1:PORT`, then one line per request it handles.
import { type ConnectProxyConfig, createConnectProxy } from './connect-proxy.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ConnectProxyConfig;
const server = createConnectProxy(config, (line) => process.stdout.write(`${line}\n`));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
