// `npm run bench`: Heddle against its baselines, workload by workload, in one
// run on one machine (see BENCHMARKS.md for the method). Writes the results
// section of BENCHMARKS.md, bench/results.svg and bench/results.json, and
// prints one summary line per workload last.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { rowId } from './baselines/by-hand.js';
import { createThrowawayDatabase, heddleEnvironment, machine, REDIS_URL } from './environment.js';
import { Harness, fanoutRound, type FanoutResult, type FanoutSettings } from './fanout.js';
import { alternate, fetchOnce, requestsOf, type HttpTarget, type LoadSettings, type ServerTarget } from './http-load.js';
import { summaryLines, writeReport, type Results } from './report.js';
import { GraphqlClient, memberSession, seedNested, seedPoint, seedTenants, type PointSeed } from './seed.js';
import { nodeFlags } from '../scripts/node-flags.mjs';
import { heddleEntry, startHeddle, startService, type Service } from './services.js';
import { startStatementCounter, type StatementCounter } from './statement-counter.js';
import { CONFIG_SUBSCRIPTION, EXECUTE_MESSAGE, EXECUTE_QUERY, NESTED_QUERY, POINT_QUERY, RESOLUTIONS, RESOLVE_QUERY, TOUCH_WORKSPACE } from './workloads.js';

const env = process.env;
const load: LoadSettings = {
  rounds: Number(env.BENCH_ROUNDS ?? 3),
  seconds: Number(env.BENCH_SECONDS ?? 5),
  warmupSeconds: Number(env.BENCH_WARMUP_SECONDS ?? 2),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
};
// The drain is long enough for 10,000 subscribers at Heddle's measured rate: late deliveries count, lost ones do not arrive.
const fanout: FanoutSettings = { eventsPerSecond: 10, seconds: Number(env.BENCH_EVENT_SECONDS ?? 5), drainMs: 40_000 };
const subscriberCounts = (env.BENCH_SUBSCRIBERS ?? '100,1000,5000,10000').split(',').map(Number);
const only = new Set((env.BENCH_ONLY ?? 'W1,W2,W3,W4,W5,W6,W7').split(','));
/** A directory for the servers' CPU profiles (node --cpu-prof), one folder per server, written when they stop. */
const CPU_PROFILE_DIR = env.BENCH_CPU_PROF;
const cpuProfile = (server: string) => (CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.join(CPU_PROFILE_DIR, server)}`] : []);

const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0)} s] ${line}\n`);
const startedAt = Date.now();

function assertFileLimit(): void {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  const needed = Math.max(...subscriberCounts) + 1000;
  if (only.has('W4') && limit < needed) throw new Error(`ulimit -n is ${limit}; ${needed} open files are needed per process for ${Math.max(...subscriberCounts)} subscribers`);
}

const graphqlTarget = (service: Service, query: string, variables: Record<string, unknown>, apiKey: string): [Service, HttpTarget] => [
  service,
  {
    url: `${service.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  },
];
const getTarget = (service: Service, path: string): [Service, HttpTarget] => [service, { url: `${service.url}${path}`, method: 'GET', headers: {} }];

/** Row ids differ between databases: compare answers without them. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'id').map(([k, v]) => [k, withoutIds(v)]));
  return value;
}

/**
 * Asks every server once and checks that each answers what the reference
 * (the first) does: equal work. Each server's own body is what every request
 * under load must then return byte for byte.
 */
async function checkedTargets(targets: Record<string, [Service, HttpTarget]>, otherDatabase: string[] = []): Promise<Record<string, ServerTarget>> {
  const checked: Record<string, ServerTarget> = {};
  let reference: unknown[] | undefined;
  for (const [name, [service, target]] of Object.entries(targets)) {
    const bodies = await Promise.all(requestsOf(target).map(fetchOnce));
    const answers = bodies.map((body) => {
      const answer = JSON.parse(body) as { data?: unknown; errors?: unknown };
      if (answer.errors || !answer.data) throw new Error(`${name} answered with errors: ${body.slice(0, 500)}`);
      return answer.data;
    });
    reference ??= answers;
    const same = otherDatabase.includes(name) ? isDeepStrictEqual(withoutIds(answers), withoutIds(reference)) : isDeepStrictEqual(answers, reference);
    if (!same) throw new Error(`${name} answers differently:\n${bodies.join('\n').slice(0, 1000)}\nexpected\n${JSON.stringify(reference).slice(0, 1000)}`);
    checked[name] = { target, expectBodies: bodies, cpuSeconds: service.cpuSeconds };
  }
  return checked;
}

/** The fewest statements one request cost over `runs` sequential runs (background work may add to a run). */
async function countStatements(counter: StatementCounter, target: HttpTarget, runs = 5): Promise<number> {
  let fewest = Infinity;
  for (let i = 0; i < runs; i++) {
    const before = counter.statements;
    await fetchOnce(target);
    fewest = Math.min(fewest, counter.statements - before);
  }
  return fewest;
}

async function main(): Promise<void> {
  assertFileLimit();
  const { name: database, url: databaseUrl, drop: dropDatabase } = await createThrowawayDatabase('heddle_bench');
  const { jwtSecret, env: heddleEnv } = heddleEnvironment(databaseUrl);
  // Each Heddle keeps its data directory (the embedded one its database) here until the end.
  const dataDirs: string[] = [];
  const dataDir = () => {
    dataDirs.push(mkdtempSync(path.join(tmpdir(), 'heddle-bench-')));
    return dataDirs.at(-1)!;
  };
  const services: Service[] = [];
  const started = async (service: Promise<Service>) => {
    const s = await service;
    services.push(s);
    return s;
  };
  let counter: StatementCounter | undefined;
  let harness: Harness | undefined;
  const results: Results = { date: new Date().toISOString(), machine: await machine(), load, fanout, http: {}, statements: {}, authStatements: 0, fanoutRounds: [], fanoutStatements: [], wallSeconds: 0 };

  try {
    // W7's provider, reached by Heddle through HEDDLE_PROVIDER_BASE_URLS and by the raw baseline directly.
    const provider = only.has('W7') ? await started(startService('fake provider', 'bench/baselines/fake-provider.ts', {}, cpuProfile('fake-provider'))) : undefined;
    const providerUrl = provider ? `${provider.url}/api` : '';
    if (provider) Object.assign(heddleEnv, { HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: providerUrl }) });
    log(`database ${database}; starting Heddle (${[...nodeFlags(heddleEnv), heddleEntry()].join(' ')})`);
    counter = await startStatementCounter(databaseUrl);
    const heddle = await started(startHeddle('heddle', { ...heddleEnv, HEDDLE_DATA_DIR: dataDir() }, cpuProfile('heddle')));
    // Migrated by now: the others start against the same database, and the embedded one on its own.
    const [counted, cached, pglite] = await Promise.all([
      started(startHeddle('heddle (counted)', { ...heddleEnv, HEDDLE_DATA_DIR: dataDir(), DATABASE_URL: counter.url })),
      only.has('W1') || only.has('W2')
        ? started(startHeddle('heddle (response cache)', { ...heddleEnv, HEDDLE_DATA_DIR: dataDir(), HEDDLE_RESPONSE_CACHE: 'on' }, cpuProfile('heddle-cached')))
        : undefined,
      only.has('W6')
        ? started(startHeddle('heddle on PGlite', { ...heddleEnv, DATABASE_URL: '', REDIS_URL: '', HEDDLE_DATA_DIR: dataDir() }))
        : undefined,
    ]);

    log('seeding through the API');
    const point = await seedPoint(await memberSession(heddle.url, jwtSecret));
    const nested = only.has('W2') ? await seedNested(await memberSession(heddle.url, jwtSecret)) : undefined;
    // W1 across organizations: one per connection, so no two requests in flight share a tenancy filter.
    const tenants = only.has('W1') ? await seedTenants(await memberSession(heddle.url, jwtSecret), load.connections) : [];
    const pglitePoint = pglite ? await seedPoint(await memberSession(pglite.url, jwtSecret)) : undefined;
    const baselineEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      BENCH_ORGANIZATION_ID: rowId(point.organizationId),
      // W7: the raw baseline opens the stored credential with Heddle's key ring and calls the same fake provider.
      HEDDLE_ENCRYPTION_KEYS: heddleEnv.HEDDLE_ENCRYPTION_KEYS,
      BENCH_PROVIDER_URL: providerUrl,
    };
    const [raw, yoga, yogaPrisma] = await Promise.all([
      started(startService('raw', 'bench/baselines/raw-http.ts', baselineEnv, cpuProfile('raw'))),
      started(startService('bare Yoga', 'bench/baselines/bare-yoga.ts', baselineEnv, cpuProfile('yoga'))),
      only.has('W1')
        ? started(startService('Yoga + Prisma', 'bench/baselines/bare-yoga.ts', { ...baselineEnv, BENCH_YOGA_MODE: 'prisma' }, cpuProfile('yoga-prisma')))
        : undefined,
    ]);

    // Authentication alone: what every request with this API key costs before its operation.
    results.authStatements = await countStatements(counter, graphqlTarget(counted, '{ __typename }', {}, point.apiKey)[1]);

    const pointTargets = (query: string, variables: (seed: PointSeed) => Record<string, unknown>, rawPath: string) => ({
      raw: getTarget(raw, rawPath),
      yoga: graphqlTarget(yoga, query, variables(point), point.apiKey),
      heddle: graphqlTarget(heddle, query, variables(point), point.apiKey),
      ...(pglite && pglitePoint ? { 'heddle-pglite': graphqlTarget(pglite, query, variables(pglitePoint), pglitePoint.apiKey) } : {}),
    });
    const runHttp = async (workload: string, targets: Record<string, [Service, HttpTarget]>) => {
      log(`${workload}: ${Object.keys(targets).join(', ')}`);
      const checked = await checkedTargets(targets, ['heddle-pglite']);
      results.http[workload] = await alternate(checked, load, (server, round) =>
        log(`  ${workload} ${server}: ${round.rps.toFixed(0)} req/s, p99 ${round.p99} ms, ${round.cpuMs.toFixed(3)} CPU ms/request`),
      );
      results.statements[workload] = await countStatements(counter!, { ...targets.heddle![1], url: `${counted.url}/graphql` });
    };

    if (only.has('W1') && yogaPrisma) {
      const targets = pointTargets(POINT_QUERY, (seed) => ({ id: seed.workspaceId }), `/workspaces/${point.workspaceId}`);
      // The step between bare Yoga and Heddle, W1 only: Heddle's statements through Heddle's authenticator and Prisma.
      await runHttp('W1', {
        ...targets,
        'yoga-prisma': graphqlTarget(yogaPrisma, POINT_QUERY, { id: point.workspaceId }, point.apiKey),
        ...(cached ? { 'heddle-cached': graphqlTarget(cached, POINT_QUERY, { id: point.workspaceId }, point.apiKey) } : {}),
      });
      // Heddle's point reads coalesce per tenancy filter: here, where none can, each request pays its own statement.
      const eachTenant = (service: Service): [Service, HttpTarget] => {
        const requests = tenants.map((tenant) => graphqlTarget(service, POINT_QUERY, { id: tenant.workspaceId }, tenant.apiKey)[1]);
        return [service, { ...requests[0]!, perConnection: requests.map(({ headers, body }) => ({ headers, body })) }];
      };
      await runHttp('W1 tenants', { yoga: eachTenant(yoga), heddle: eachTenant(heddle) });
    }
    if (only.has('W3')) {
      for (const resolution of RESOLUTIONS) {
        const input = (seed: PointSeed) => ({ input: { workspaceId: seed.workspaceId, integration: resolution.integration, externalId: resolution.externalId } });
        const query = new URLSearchParams({ workspaceId: point.workspaceId, integration: resolution.integration, ...(resolution.externalId ? { externalId: resolution.externalId } : {}) });
        const targets = pointTargets(RESOLVE_QUERY, input, `/resolve?${query}`);
        // W6 compares the embedded database on the FIXED case only.
        if (resolution.key !== 'FIXED') delete (targets as Record<string, unknown>)['heddle-pglite'];
        await runHttp(`W3 ${resolution.key}`, targets);
      }
    }
    if (only.has('W2') && nested) {
      await runHttp('W2', {
        raw: getTarget(raw, `/organizations/${nested.organizationId}/tree`),
        heddle: graphqlTarget(heddle, NESTED_QUERY, { id: nested.organizationId }, nested.apiKey),
        ...(cached ? { 'heddle-cached': graphqlTarget(cached, NESTED_QUERY, { id: nested.organizationId }, nested.apiKey) } : {}),
      });
    }

    if (only.has('W7')) {
      const input = { workspaceId: point.workspaceId, integration: 'slack', action: 'send_message', input: EXECUTE_MESSAGE };
      await runHttp('W7', {
        raw: getTarget(raw, `/execute?${new URLSearchParams({ workspaceId: point.workspaceId, integration: 'slack', ...EXECUTE_MESSAGE })}`),
        heddle: graphqlTarget(heddle, EXECUTE_QUERY, { input }, point.apiKey),
      });
    }

    if (only.has('W4') || only.has('W5')) {
      const rawWs = await started(startService('raw ws', 'bench/baselines/raw-ws.ts', { REDIS_URL, DATABASE_URL: databaseUrl, BENCH_WORKSPACE_ID: rowId(point.workspaceId), BENCH_WORKSPACE_GLOBAL_ID: point.workspaceId }, cpuProfile('raw-ws')));
      harness = Harness.start();
      const api = new GraphqlClient(heddle.url, `Bearer ${point.apiKey}`);
      let touches = 0;
      const publish = async () => {
        const data = await api.request(TOUCH_WORKSPACE, { input: { id: point.workspaceId, name: `Point ${++touches}` } });
        if (data.updateWorkspace?.__typename !== 'Workspace') throw new Error(`updateWorkspace failed: ${JSON.stringify(data)}`);
      };
      for (const count of subscriberCounts) {
        const rounds: Record<string, FanoutResult> = {};
        for (const [name, service, protocol] of [
          ['heddle', heddle, 'graphql-ws'],
          ['raw ws', rawWs, 'raw'],
        ] as const) {
          log(`W4/W5: ${count} subscribers on ${name}`);
          const wsUrl = `${service.url.replace('http', 'ws')}/graphql`;
          rounds[name] = await fanoutRound(
            harness,
            service,
            { cmd: 'open', url: wsUrl, count, protocol, authorization: `Bearer ${point.apiKey}`, query: CONFIG_SUBSCRIPTION, variables: { id: point.workspaceId } },
            publish,
            fanout,
          );
          const r = rounds[name]!;
          log(
            `  p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.deliveriesPerSecond.toFixed(0)} deliveries/s (${r.deliveries}/${r.expected}), ` +
              `${(r.rssPerSubscriber / 1024).toFixed(1)} KB RSS/subscriber` +
              (r.failedEvents ? `; ${r.failedEvents} changes failed: ${r.failedEventError}` : ''),
          );
          // Let the server finish closing the sockets before the next reading of its memory.
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        results.fanoutRounds.push({ subscribers: count, heddle: rounds.heddle!, raw: rounds['raw ws']! });
      }
      // The statements of a change and of its delivery, on the counted instance: the same for 1 and for 1,000 subscribers.
      const countedApi = new GraphqlClient(counted.url, `Bearer ${point.apiKey}`);
      const publishCounted = async () => {
        const data = await countedApi.request(TOUCH_WORKSPACE, { input: { id: point.workspaceId, name: `Point ${++touches}` } });
        if (data.updateWorkspace?.__typename !== 'Workspace') throw new Error(`updateWorkspace failed: ${JSON.stringify(data)}`);
      };
      for (const count of [1, 1000]) {
        log(`W4 statements per event: ${count} subscribers on heddle (counted)`);
        const wsUrl = `${counted.url.replace('http', 'ws')}/graphql`;
        const round = await fanoutRound(
          harness,
          counted,
          { cmd: 'open', url: wsUrl, count, protocol: 'graphql-ws', authorization: `Bearer ${point.apiKey}`, query: CONFIG_SUBSCRIPTION, variables: { id: point.workspaceId } },
          publishCounted,
          { ...fanout, seconds: 2, counter: counter! },
        );
        log(`  ${round.statementsPerEvent?.toFixed(1)} statements per event`);
        results.fanoutStatements.push({ subscribers: count, perEvent: round.statementsPerEvent ?? NaN });
      }
    }
  } catch (error) {
    // What the servers said explains most failures.
    for (const service of services) log(`${service.name} wrote:\n${service.output().slice(-3000)}`);
    throw error;
  } finally {
    harness?.stop();
    await Promise.all(services.map((s) => s.stop()));
    await counter?.close();
    await dropDatabase();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }

  results.wallSeconds = (Date.now() - startedAt) / 1000;
  // BENCHMARKS.md shows whole runs only: a run of some workloads just prints.
  if (env.BENCH_ONLY) log('BENCH_ONLY: BENCHMARKS.md, bench/results.svg and bench/results.json left as they are');
  else writeReport(results);
  process.stdout.write(summaryLines(results).join('\n') + '\n');
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
