export { type ConnectProxyConfig, createConnectProxy } from './connect-proxy.js';
export { type ProxyProcess, type SpawnConnectProxyOptions, spawnConnectProxy } from './connect-proxy-process.js';
export { FakeAuthority, type FakeAuthorityOptions, type FakeOverride, type FakeRoute } from './fake-authority.js';
export type { FakeAnswer, FakeDeviceRoute, FakeTamper } from './fake-device-service.js';
export type { FakeInstance, FakeLedger, FakeToken } from './fake-ledger.js';
export { createRootCa, type FakeIssuer } from './fake-pki.js';
export { type AgentHarness, createAgentHarness } from './harness.js';
