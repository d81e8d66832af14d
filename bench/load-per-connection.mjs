// HTTP load where each connection sends its own headers and body, which
// autocannon's CLI cannot do (it sends one set): connection i sends the i-th
// request of the spec (modulo their number). Every answer must be one of the
// requests' expected bodies (autocannon checks bodies for all connections at
// once; which caller sees which rows is test/graph/point-reads.test.ts's to
// check). Run by http-load.ts as a separate process, like the CLI; prints
// autocannon's result as JSON, as the CLI's -j does.
import autocannon from 'autocannon';

/** @type {{ url: string; method: string; seconds: number; connections: number; requests: { headers: Record<string, string>; body?: string; expectBody: string }[] }} */
const spec = JSON.parse(process.argv[2]);
const expected = new Set(spec.requests.map((request) => request.expectBody));
let connections = 0;
const result = await autocannon({
  url: spec.url,
  method: spec.method,
  connections: spec.connections,
  duration: spec.seconds,
  setupClient(client) {
    const request = spec.requests[connections++ % spec.requests.length];
    client.setHeadersAndBody(request.headers, request.body);
  },
  verifyBody: (body) => expected.has(body),
});
process.stdout.write(JSON.stringify(result));
