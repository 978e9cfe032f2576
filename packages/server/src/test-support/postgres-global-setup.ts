import type { TestProject } from 'vitest/node';
import type {} from './postgres.js';
import { findPostgresBin, type PostgresCluster, startPostgresCluster } from './postgres-cluster.js';

/** As `POSTGRES_URL_ENV` in postgres.ts (not imported from there: that module needs a test worker). */
const POSTGRES_URL_ENV = 'SMARTLIC_TEST_POSTGRES_URL';

let cluster: PostgresCluster | undefined;

/**
 * vitest globalSetup: one PostgreSQL cluster for the whole run, its URL provided to the tests
 * as `postgresUrl`. Without PostgreSQL the PostgreSQL half of the suite is skipped with one
 * line saying so, except under CI (`CI=true`), where that is a failure.
 */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env[POSTGRES_URL_ENV];
  if (given) {
    project.provide('postgresUrl', given);
    return;
  }
  const bin = findPostgresBin();
  if (!bin) {
    const message = 'PostgreSQL not found (apt-get install postgresql): skipping the PostgreSQL half of the suite';
    if (process.env.CI === 'true') throw new Error(`${message} is not allowed under CI.`);
    console.warn(message);
    project.provide('postgresUrl', '');
    return;
  }
  cluster = await startPostgresCluster(bin);
  project.provide('postgresUrl', cluster.url);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
}
