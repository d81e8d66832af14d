// Listens to a pub/sub topic in-process and keeps what arrives, to assert on
// published events (over the in-process pub/sub or Redis alike).
import type { PubSubHandle, Topics } from '../../src/platform/pubsub.js';

export function collectEvents<K extends keyof Topics>(
  handle: PubSubHandle,
  topic: K,
  ...id: Topics[K] extends [string, unknown] ? [string] : []
): { events: (Topics[K] extends [...unknown[], infer E] ? E : never)[]; stop(): void } {
  const subscribe = handle.pubsub.subscribe.bind(handle.pubsub) as unknown as (...args: string[]) => AsyncIterable<unknown>;
  const iterator = subscribe(topic, ...id)[Symbol.asyncIterator]();
  const events: unknown[] = [];
  let listening = true;
  void (async () => {
    while (listening) {
      const next = await iterator.next();
      if (next.done) return;
      events.push(next.value);
    }
  })();
  return {
    events: events as never,
    stop() {
      listening = false;
      void iterator.return?.();
    },
  };
}
