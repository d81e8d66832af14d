// The integrations whose actions Heddle can run, by catalog name. Adding one
// is its `<name>.provider.ts` beside the catalog entry plus a line here.
import { githubProvider } from './integrations/github.provider.js';
import { gmailProvider } from './integrations/gmail.provider.js';
import { linearProvider } from './integrations/linear.provider.js';
import { notionProvider } from './integrations/notion.provider.js';
import { slackProvider } from './integrations/slack.provider.js';
import type { Provider } from './provider.js';

const PROVIDERS: ReadonlyMap<string, Provider> = new Map([
  ['github', githubProvider],
  ['gmail', gmailProvider],
  ['linear', linearProvider],
  ['notion', notionProvider],
  ['slack', slackProvider],
]);

/** The Provider of a catalog integration; undefined when Heddle cannot run its actions yet. */
export function getProvider(integration: string): Provider | undefined {
  return PROVIDERS.get(integration);
}

/** Names of the integrations that have a Provider. */
export function providerNames(): string[] {
  return [...PROVIDERS.keys()];
}
