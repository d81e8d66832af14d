// Listens to a pub/sub topic in-process and keeps what arrives, to assert on
// published events (over the in-process pub/sub or Redis alike); and the
// conditions a test waits on before it makes the change a subscriber should hear.
import { Redis } from 'ioredis';
import { vi } from 'vitest';
import { decodeGlobalId } from '../../src/platform/ids.js';
import { channelOf, type ConfigEventMessage, type PubSubHandle, type Topics } from '../../src/platform/pubsub.js';
import { TEST_REDIS_URL } from './services.js';

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

/**
 * How many Redis connections listen to the live events of one subject (a
 * workspace's config changes, an MCP server's tools): one per instance holding a
 * live subscription to it. The channel names the subject, so other test files
 * sharing the Redis do not count. Poll it until the subscriber's instance counts.
 */
export async function redisListeners(topic: ConfigEventMessage['topic'], subjectGlobalId: string): Promise<number> {
  const subject = decodeGlobalId(subjectGlobalId);
  if (!subject) throw new Error(`not a global id: ${subjectGlobalId}`);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 0 });
  try {
    // The pub/sub's channel: its routing key, then the subject's id (graphql-yoga's createPubSub).
    const [, count] = (await redis.pubsub('NUMSUB', `${channelOf(topic)}:${subject.id}`)) as [string, number];
    return count;
  } finally {
    redis.disconnect();
  }
}

/**
 * A live-only subscription (one that replays nothing) says nothing once it is
 * in place: this makes `change` again, every `interval` ms, until the
 * subscription hears one (`heard` settles) or `timeout` passes. No change is
 * still running when it returns. A subscriber may hear more than one of them.
 */
export async function repeatUntilHeard<T>(
  heard: Promise<T>,
  change: () => Promise<unknown>,
  { interval = 100, timeout = 5000 }: { interval?: number; timeout?: number } = {},
): Promise<T> {
  let settled = false;
  const watched = heard.finally(() => (settled = true));
  watched.catch(() => {}); // the caller sees the rejection through `heard`
  let running: Promise<unknown> | undefined;
  try {
    await vi.waitFor(
      async () => {
        if (settled) return;
        await (running = change());
        if (!settled) throw new Error(`the subscription heard none of the changes within ${timeout} ms`);
      },
      { interval, timeout },
    );
  } finally {
    await running?.catch(() => {});
  }
  return heard;
}
