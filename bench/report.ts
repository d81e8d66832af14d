// Turns one run's results into BENCHMARKS.md's results section (between its
// markers; the hand-written text around them stays), bench/results.svg,
// bench/results.json and the summary lines the bench prints last.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FanoutResult, FanoutSettings } from './fanout.js';
import type { LoadResult, LoadSettings } from './http-load.js';
import { barChart, type Panel } from './chart.js';
import { ROOT } from './services.js';
import { NESTED_OBJECTS, RESOLUTIONS } from './workloads.js';

export interface Results {
  date: string;
  machine: { cpu: string; memoryGb: number; node: string; postgres: string; redis: string };
  load: LoadSettings;
  fanout: FanoutSettings;
  /** workload → server (raw, yoga, heddle, heddle-pglite) → medians. */
  http: Record<string, Record<string, LoadResult>>;
  /** workload → SQL statements one Heddle request sends, authentication included. */
  statements: Record<string, number>;
  /** Of those, the API key's authentication (the same for every request). */
  authStatements: number;
  fanoutRounds: { subscribers: number; heddle: FanoutResult; raw: FanoutResult }[];
  /** W4: SQL statements per config change, its delivery included, by subscriber count . */
  fanoutStatements: { subscribers: number; perEvent: number }[];
  wallSeconds: number;
}

const BEGIN = '<!-- bench:results:begin (written by npm run bench) -->';
const END = '<!-- bench:results:end -->';
const SERVER_LABELS: Record<string, string> = {
  raw: 'raw (node:http + pg)',
  yoga: 'bare Yoga + pg',
  'yoga-prisma': "Yoga + Heddle's authenticator + Prisma",
  heddle: 'Heddle',
  'heddle-cached': 'Heddle, response cache on',
  'heddle-pglite': 'Heddle on PGlite',
};

const num = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? NaN : a / b);
const times = (value: number) => (Number.isFinite(value) ? `${num(value, 2)}×` : 'n/a');
const kb = (bytes: number) => num(bytes / 1024, 1);

interface Target {
  workload: string;
  rule: string;
  measured: string;
  met: boolean | undefined;
}

/** W5 reads memory at 1,000 subscribers and more. */
const isW5 = (round: { subscribers: number }) => round.subscribers >= 1000;

function targets(r: Results): Target[] {
  const list: Target[] = [];
  const w1 = r.http.W1;
  if (w1) {
    const value = ratio(w1.heddle?.rps, w1.yoga?.rps);
    list.push({ workload: 'W1', rule: '≥ 0.75× bare Yoga', measured: times(value), met: value >= 0.75 });
    list.push({ workload: 'W1', rule: 'uncached ≥ 0.6× bare Yoga (#25)', measured: times(value), met: value >= 0.6 });
    if (w1['heddle-cached']) {
      const cached = ratio(w1['heddle-cached'].rps, w1.yoga?.rps);
      list.push({ workload: 'W1', rule: 'cached ≥ 1.0× bare Yoga (#25)', measured: times(cached), met: cached >= 1 });
    }
  }
  const w2 = r.http.W2;
  if (w2) {
    const value = ratio(w2.heddle?.rps, w2.raw?.rps);
    const operation = (r.statements.W2 ?? NaN) - r.authStatements;
    list.push({ workload: 'W2', rule: '≥ 0.25× raw json_agg', measured: times(value), met: value >= 0.25 });
    list.push({ workload: 'W2', rule: 'uncached ≥ 0.2× raw json_agg (#25)', measured: times(value), met: value >= 0.2 });
    if (w2['heddle-cached']) {
      const cached = ratio(w2['heddle-cached'].rps, w2.raw?.rps);
      list.push({ workload: 'W2', rule: 'cached ≥ 0.5× raw json_agg (#25)', measured: times(cached), met: cached >= 0.5 });
    }
    list.push({
      workload: 'W2',
      rule: "≤ 6 statements (the operation's, as test/graph/statement-count.test.ts counts them)",
      measured: statementsText(r, 'W2'),
      met: operation <= 6,
    });
  }
  const fixed = r.http['W3 FIXED'];
  if (fixed && w1) {
    const value = ratio(fixed.heddle?.rps, w1.heddle?.rps);
    list.push({ workload: 'W3', rule: 'FIXED ≥ 0.7× W1', measured: times(value), met: value >= 0.7 });
  }
  const w7 = r.http.W7;
  if (w7) {
    const value = ratio(w7.heddle?.rps, w7.raw?.rps);
    list.push({ workload: 'W7', rule: '≥ 0.5× raw (pg + fetch)', measured: times(value), met: value >= 0.5 });
  }
  const at1000 = r.fanoutRounds.find((f) => f.subscribers === 1000);
  if (at1000) {
    const value = ratio(at1000.heddle.deliveriesPerSecond, at1000.raw.deliveriesPerSecond);
    list.push({
      workload: 'W4',
      rule: 'at 1,000 subscribers: p99 ≤ 100 ms, deliveries/s ≥ 0.3× raw ws',
      measured: `p99 ${num(at1000.heddle.p99)} ms, ${times(value)}`,
      met: at1000.heddle.p99 <= 100 && value >= 0.3 && at1000.heddle.deliveries === at1000.heddle.expected && !at1000.heddle.failedEvents,
    });
  }
  const at5000 = r.fanoutRounds.find((f) => f.subscribers === 5000);
  if (at5000) {
    const value = ratio(at5000.heddle.deliveriesPerSecond, at5000.raw.deliveriesPerSecond);
    const p99 = ratio(at5000.heddle.p99, at5000.raw.p99);
    list.push({
      workload: 'W4',
      rule: 'at 5,000: deliveries/s ≥ 0.8× raw ws, p99 ≤ 3× raw ws p99 (#20)',
      measured: `${times(value)}, p99 ${num(at5000.heddle.p99)} ms = ${times(p99)}`,
      met: value >= 0.8 && p99 <= 3,
    });
  }
  const at10000 = r.fanoutRounds.find((f) => f.subscribers === 10000);
  if (at10000) {
    const f = at10000.heddle;
    list.push({
      workload: 'W4',
      rule: 'at 10,000: every event to every subscriber, every config write succeeds (#20)',
      measured: `${num(f.deliveries)} of ${num(f.expected)} delivered, ${f.events} of ${f.events + f.failedEvents} writes`,
      met: f.deliveries === f.expected && !f.failedEvents && !f.failures,
    });
  }
  const perEvent = r.fanoutStatements ?? [];
  if (perEvent.length > 1) {
    list.push({
      workload: 'W4',
      rule: 'statements per event independent of subscribers (#20)',
      measured: perEvent.map((s) => `${num(s.perEvent, 1)} at ${num(s.subscribers)}`).join(', '),
      met: perEvent.every((s) => Math.round(s.perEvent) === Math.round(perEvent[0]!.perEvent)),
    });
  }
  const idle = r.fanoutRounds.filter(isW5);
  if (idle.length) {
    list.push({
      workload: 'W5',
      rule: '≤ 40 KB per idle subscriber, RSS and heap (1,000 and 5,000)',
      measured: idle.map((f) => `${kb(f.heddle.rssPerSubscriber)} KB RSS, ${kb(f.heddle.heapPerSubscriber)} KB heap at ${num(f.subscribers)}`).join('; '),
      met: idle.every((f) => Math.max(f.heddle.rssPerSubscriber, f.heddle.heapPerSubscriber) <= 40 * 1024),
    });
    list.push({
      workload: 'W5',
      rule: '≤ 12 KB heap per idle subscriber (#20)',
      measured: idle.map((f) => `${kb(f.heddle.heapPerSubscriber)} KB at ${num(f.subscribers)}`).join('; '),
      met: idle.every((f) => f.heddle.heapPerSubscriber <= 12 * 1024),
    });
  }
  return list;
}

/** "; response cache on: 2,400 req/s = 1.10× bare Yoga" (nothing when the run had no cached server). */
function cachedText(cached: { rps: number } | undefined, against: string, baseline: { rps: number } | undefined): string {
  return cached ? `; response cache on: ${num(cached.rps)} req/s = ${times(ratio(cached.rps, baseline?.rps))} ${against}` : '';
}

/** "7 (1 authentication + 6 for the operation)" */
function statementsText(r: Results, workload: string): string {
  const total = r.statements[workload];
  if (total === undefined) return '';
  return `${total} statements (${r.authStatements} authentication + ${total - r.authStatements} for the operation)`;
}

function httpTable(r: Results): string[] {
  const w1 = r.http.W1;
  const lines = [
    '| workload | server | req/s | p50 ms | p99 ms | CPU ms per request | × raw | × bare Yoga | W3: × Heddle W1 (req/s, p99) | SQL per Heddle request |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const [workload, servers] of Object.entries(r.http)) {
    for (const [server, result] of Object.entries(servers)) {
      if (server === 'heddle-pglite') continue; // W6 has its own table
      const heddle = server === 'heddle';
      const againstRaw = server === 'raw' || !servers.raw ? '' : times(ratio(result.rps, servers.raw.rps));
      const againstYoga = server === 'raw' || server === 'yoga' || !servers.yoga ? '' : times(ratio(result.rps, servers.yoga.rps));
      const againstW1 =
        heddle && workload.startsWith('W3') && w1?.heddle
          ? `${times(ratio(result.rps, w1.heddle.rps))}, ${times(ratio(result.p99, w1.heddle.p99))}`
          : '';
      const cells = [workloadLabel(workload), SERVER_LABELS[server] ?? server, num(result.rps), num(result.p50), num(result.p99), num(result.cpuMs, 3)];
      lines.push(`| ${[...cells, againstRaw, againstYoga, againstW1, heddle ? statementsText(r, workload) : ''].join(' | ')} |`);
    }
  }
  return lines;
}

function workloadLabel(workload: string): string {
  if (workload === 'W1') return 'W1 point query';
  if (workload === 'W1 tenants') return 'W1 point query, one organization per connection';
  if (workload === 'W2') return `W2 nested (${NESTED_OBJECTS} objects)`;
  if (workload === 'W7') return 'W7 executeAction (Slack send_message, loopback provider)';
  const resolution = RESOLUTIONS.find((c) => `W3 ${c.key}` === workload);
  return resolution ? `W3 resolveConnection ${resolution.label}` : workload;
}

function pgliteTable(r: Results): string[] {
  const rows = Object.entries(r.http).filter(([, servers]) => servers['heddle-pglite'] && servers.heddle);
  if (!rows.length) return [];
  return [
    '| workload | Heddle on PostgreSQL req/s (p99 ms) | Heddle on PGlite req/s (p99 ms) | PGlite ÷ PostgreSQL |',
    '|---|--:|--:|--:|',
    ...rows.map(([workload, s]) => {
      const pgResult = s.heddle!;
      const lite = s['heddle-pglite']!;
      return `| ${workloadLabel(workload)} | ${num(pgResult.rps)} (${num(pgResult.p99)}) | ${num(lite.rps)} (${num(lite.p99)}) | ${times(ratio(lite.rps, pgResult.rps))} |`;
    }),
  ];
}

function fanoutTable(r: Results): string[] {
  if (!r.fanoutRounds.length) return [];
  const lines = [
    '| subscribers | server | config changes published (failed) | p50 ms | p99 ms | max ms | deliveries/s | delivered | × raw ws deliveries/s | RSS KB per idle subscriber | heap KB per idle subscriber |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const round of r.fanoutRounds) {
    for (const [label, f] of [
      ['Heddle (graphql-ws)', round.heddle],
      ['raw ws broadcast', round.raw],
    ] as const) {
      const againstRaw = f === round.heddle ? times(ratio(f.deliveriesPerSecond, round.raw.deliveriesPerSecond)) : '';
      // Below 1,000 subscribers the memory delta is within the noise of a collection.
      const memory = isW5(round) ? [kb(f.rssPerSubscriber), kb(f.heapPerSubscriber)] : ['', ''];
      const delivered = `${num(f.deliveries)} of ${num(f.expected)}${f.failures ? `, ${f.failures} errors or closed sockets` : ''}`;
      const cells = [num(round.subscribers), label, `${f.events}${f.failedEvents ? ` (${f.failedEvents})` : ''}`, num(f.p50), num(f.p99), num(f.max)];
      lines.push(`| ${[...cells, num(f.deliveriesPerSecond), delivered, againstRaw, ...memory].join(' | ')} |`);
    }
  }
  return lines;
}

/** One line per workload, printed last by the bench. */
export function summaryLines(r: Results): string[] {
  const lines: string[] = [];
  const status = (workload: string) => {
    const found = targets(r).filter((t) => t.workload === workload);
    return found.length ? ` | target ${found.map((t) => `${t.rule}: ${t.met ? 'met' : 'MISSED'}`).join('; ')}` : '';
  };
  const w1 = r.http.W1;
  if (w1?.heddle) {
    const step = w1['yoga-prisma'] ? `; Yoga + Heddle's authenticator + Prisma ${num(w1['yoga-prisma'].rps)} = ${times(ratio(w1['yoga-prisma'].rps, w1.yoga?.rps))} bare Yoga` : '';
    lines.push(
      `W1 point query: Heddle ${num(w1.heddle.rps)} req/s, p99 ${num(w1.heddle.p99)} ms, ${num(w1.heddle.cpuMs, 2)} CPU ms/req = ${times(ratio(w1.heddle.rps, w1.raw?.rps))} raw (${num(w1.raw?.rps ?? NaN)}), ${times(ratio(w1.heddle.rps, w1.yoga?.rps))} bare Yoga (${num(w1.yoga?.rps ?? NaN)}, ${num(w1.yoga?.cpuMs ?? NaN, 2)} CPU ms/req)${step}${cachedText(w1['heddle-cached'], 'bare Yoga', w1.yoga)}; ${r.statements.W1} statements${status('W1')}`,
    );
  }
  const tenants = r.http['W1 tenants'];
  if (tenants?.heddle) {
    lines.push(
      `W1 across ${r.load.connections} organizations, one per connection (informational: no two requests in flight share a point read): Heddle ${num(tenants.heddle.rps)} req/s, p99 ${num(tenants.heddle.p99)} ms, ${num(tenants.heddle.cpuMs, 2)} CPU ms/req = ${times(ratio(tenants.heddle.rps, tenants.yoga?.rps))} bare Yoga (${num(tenants.yoga?.rps ?? NaN)}, ${num(tenants.yoga?.cpuMs ?? NaN, 2)} CPU ms/req)`,
    );
  }
  const w2 = r.http.W2;
  if (w2?.heddle) {
    lines.push(
      `W2 nested, ${NESTED_OBJECTS} objects: Heddle ${num(w2.heddle.rps)} req/s, p99 ${num(w2.heddle.p99)} ms, ${num(w2.heddle.cpuMs, 2)} CPU ms/req = ${times(ratio(w2.heddle.rps, w2.raw?.rps))} raw json_agg (${num(w2.raw?.rps ?? NaN)})${cachedText(w2['heddle-cached'], 'raw json_agg', w2.raw)}; ${statementsText(r, 'W2')}${status('W2')}`,
    );
  }
  const w3 = RESOLUTIONS.flatMap((c) => {
    const s = r.http[`W3 ${c.key}`];
    if (!s?.heddle) return [];
    const w1Heddle = w1?.heddle;
    return [
      `${c.key} ${num(s.heddle.rps)} req/s (${times(ratio(s.heddle.rps, w1Heddle?.rps))} W1), p99 ${num(s.heddle.p99)} ms (${times(ratio(s.heddle.p99, w1Heddle?.p99))} W1), ${times(ratio(s.heddle.rps, s.raw?.rps))} raw, ${times(ratio(s.heddle.rps, s.yoga?.rps))} bare Yoga`,
    ];
  });
  if (w3.length) lines.push(`W3 resolveConnection: ${w3.join('; ')}${status('W3')}`);
  const w7 = r.http.W7;
  if (w7?.heddle && w7.raw) {
    lines.push(
      `W7 executeAction: Heddle ${num(w7.heddle.rps)} req/s, ${num(w7.heddle.cpuMs, 2)} CPU ms/req = ${times(ratio(w7.heddle.rps, w7.raw.rps))} raw pg + fetch (${num(w7.raw.rps)}); ` +
        `added latency p50 ${num(w7.heddle.p50 - w7.raw.p50)} ms, p99 ${num(w7.heddle.p99 - w7.raw.p99)} ms; ${statementsText(r, 'W7')}${status('W7')}`,
    );
  }
  if (r.fanoutRounds.length) {
    lines.push(
      `W4 fan-out, 10 events/s: ${r.fanoutRounds
        .map(
          (f) =>
            `${num(f.subscribers)} subs p50/p99 ${num(f.heddle.p50)}/${num(f.heddle.p99)} ms (raw ws ${num(f.raw.p50)}/${num(f.raw.p99)}), ${num(f.heddle.deliveriesPerSecond)} deliveries/s = ${times(ratio(f.heddle.deliveriesPerSecond, f.raw.deliveriesPerSecond))} raw ws` +
            (f.heddle.failedEvents ? `, ${f.heddle.failedEvents} of ${f.heddle.events + f.heddle.failedEvents} changes failed` : ''),
        )
        .join('; ')}${(r.fanoutStatements ?? []).map((s) => `; ${num(s.perEvent, 1)} statements per event at ${num(s.subscribers)}`).join('')}${status('W4')}`,
    );
    lines.push(
      `W5 idle memory per subscriber: ${r.fanoutRounds
        .filter(isW5)
        .map((f) => `${num(f.subscribers)}: ${kb(f.heddle.rssPerSubscriber)} KB RSS, ${kb(f.heddle.heapPerSubscriber)} KB heap (raw ws ${kb(f.raw.rssPerSubscriber)} / ${kb(f.raw.heapPerSubscriber)})`)
        .join('; ')}${status('W5')}`,
    );
  }
  const w6 = Object.entries(r.http).filter(([, s]) => s['heddle-pglite'] && s.heddle);
  if (w6.length) {
    lines.push(
      `W6 embedded PGlite (informational): ${w6
        .map(([w, s]) => `${w} ${num(s['heddle-pglite']!.rps)} req/s, p99 ${num(s['heddle-pglite']!.p99)} ms = ${times(ratio(s['heddle-pglite']!.rps, s.heddle!.rps))} PostgreSQL`)
        .join('; ')}`,
    );
  }
  return lines;
}

function panels(r: Results): Panel[] {
  const list: Panel[] = [];
  const httpGroups = Object.entries(r.http).map(([workload, servers]) => ({
    label: workload,
    bars: Object.entries(servers).map(([server, result]) => ({ series: SERVER_LABELS[server] ?? server, value: result.rps })),
  }));
  if (httpGroups.length) list.push({ title: 'Requests per second (median of the rounds)', unit: 'req/s', groups: httpGroups });
  const heddle = (w: string) => r.http[w]?.heddle?.rps;
  const at1000 = r.fanoutRounds.find((f) => f.subscribers === 1000);
  const ratioRows: [string, number, number][] = [
    ['W1 ÷ bare Yoga', ratio(heddle('W1'), r.http.W1?.yoga?.rps), 0.75],
    ['W2 ÷ raw json_agg', ratio(heddle('W2'), r.http.W2?.raw?.rps), 0.25],
    ['W3 FIXED ÷ W1', ratio(heddle('W3 FIXED'), heddle('W1')), 0.7],
    ['W7 ÷ raw pg + fetch', ratio(heddle('W7'), r.http.W7?.raw?.rps), 0.5],
    ['W4 deliveries/s ÷ raw ws (1,000)', ratio(at1000?.heddle.deliveriesPerSecond, at1000?.raw.deliveriesPerSecond), 0.3],
  ];
  const ratios = ratioRows
    .filter(([, value]) => Number.isFinite(value))
    .map(([label, value, target]) => ({ label, bars: [{ series: 'Heddle', value }], target }));
  if (ratios.length) list.push({ title: "Heddle's ratios; dashed: the target (at least)", unit: '×', groups: ratios });
  if (r.fanoutRounds.length) {
    list.push({
      title: 'W4 publish-to-delivery p99 at 10 events/s; dashed: 100 ms target (at 1,000)',
      unit: 'ms',
      groups: r.fanoutRounds.map((f) => ({
        label: `${num(f.subscribers)} subscribers`,
        bars: [
          { series: 'Heddle', value: f.heddle.p99 },
          { series: 'raw ws broadcast', value: f.raw.p99 },
        ],
        target: f.subscribers === 1000 ? 100 : undefined,
      })),
    });
    list.push({
      title: 'W5 memory per idle subscriber (RSS, heap); dashed: 40 KB target',
      unit: 'KB',
      groups: r.fanoutRounds.filter(isW5).flatMap((f) =>
        (['rss', 'heap'] as const).map((kind) => ({
          label: `${num(f.subscribers)} subscribers, ${kind === 'rss' ? 'RSS' : 'heap'}`,
          bars: [
            { series: 'Heddle', value: (kind === 'rss' ? f.heddle.rssPerSubscriber : f.heddle.heapPerSubscriber) / 1024 },
            { series: 'raw ws broadcast', value: (kind === 'rss' ? f.raw.rssPerSubscriber : f.raw.heapPerSubscriber) / 1024 },
          ],
          target: 40,
        })),
      ),
    });
  }
  return list;
}

function resultsSection(r: Results): string {
  const m = r.machine;
  const minutes = `${Math.floor(r.wallSeconds / 60)} min ${Math.round(r.wallSeconds % 60)} s`;
  const targetRows = targets(r).map((t) => `| ${t.workload} | ${t.rule} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`);
  return [
    `Run of ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu}, ${m.memoryGb} GB, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}.`,
    `HTTP: ${r.load.rounds} alternating rounds of ${r.load.seconds} s after a ${r.load.warmupSeconds} s warm-up, ${r.load.connections} connections, medians.`,
    `Fan-out: ${r.fanout.eventsPerSecond} events/s for ${r.fanout.seconds} s per server and subscriber count. \`npm run bench\` took ${minutes}.`,
    '',
    '### Targets',
    '',
    '| workload | target | measured | |',
    '|---|---|---|---|',
    ...targetRows,
    '',
    '### Throughput and latency (W1, W2, W3, W7)',
    '',
    ...httpTable(r),
    '',
    ...(pgliteTable(r).length ? ['### Embedded PGlite against PostgreSQL (W6, informational)', '', ...pgliteTable(r), ''] : []),
    ...(fanoutTable(r).length ? ['### Fan-out (W4) and idle memory (W5)', '', ...fanoutTable(r), ''] : []),
    '![Results chart](bench/results.svg)',
    '',
    '### Summary (as printed by the bench)',
    '',
    '```',
    ...summaryLines(r),
    '```',
  ].join('\n');
}

export function writeReport(r: Results): void {
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(path.join(ROOT, 'bench/results.svg'), barChart(panels(r)));
  const file = path.join(ROOT, 'BENCHMARKS.md');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const section = `${BEGIN}\n${resultsSection(r)}\n${END}`;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  text = begin >= 0 && end > begin ? text.slice(0, begin) + section + text.slice(end + END.length) : `${text.trimEnd()}\n\n## Results\n\n${section}\n`;
  writeFileSync(file, text);
}
