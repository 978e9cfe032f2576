import { configDefaults, defineConfig } from 'vitest/config';

const include = ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'];

/**
 * Files that run on their own, after all the others, one at a time:
 * - server-kill: 50 × (`kill -9`, restart a server process, check) under 4 load workers, each
 *   kill at a random moment 30–230 ms in. Beside another file on a loaded 2-core machine it
 *   ran past its 180 s limit (it takes about 67 s alone).
 * - graceful-shutdown: asserts that a server drains a burst and exits within 10 s of wall time.
 * - the portal's browser suites: each drives a headless Chromium (several processes) against a
 *   server process. One passed beside a CLI suite under heavy load; two Chromiums at once are
 *   kept from happening rather than found out (they cost about 30 s of the run this way).
 */
const alone = [
  'packages/cli/test/server-kill.e2e.test.ts',
  'packages/cli/test/graceful-shutdown.e2e.test.ts',
  'packages/portal/test/*.e2e.test.ts',
];

const shared = {
  pool: 'forks',
  // A test that drives the CLI runs one process after another (30 or more in the long ones):
  // with two files at a time on two cores each of them waits longer for a core, so the
  // limit leaves room for that (it only bounds a test that hangs; it costs nothing otherwise).
  testTimeout: 120_000,
  hookTimeout: 120_000,
} as const;

export default defineConfig({
  test: {
    // One PostgreSQL cluster for the run (skipped with one line when PostgreSQL is not installed).
    // Set here only, on the root: the projects below inherit what it provides.
    globalSetup: ['packages/server/src/test-support/postgres-global-setup.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'suite',
          include,
          exclude: [...configDefaults.exclude, ...alone],
          // Vitest's default is one worker less than the cores: 1 on a 2-core machine, so the
          // files ran one at a time. Most are e2e files that spend their time waiting on child
          // processes (the CLI, server processes) and HTTP, which leaves the second core idle:
          // 2 workers use it. Every test already keeps to itself (port 0, its own temp dir, its
          // own PostgreSQL database of the shared cluster, which allows 300 connections).
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'alone',
          include: alone,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
