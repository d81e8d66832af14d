// Headless Chromium for the browser suites: Debian's `chromium`, driven by
// playwright-core (which downloads no browser of its own). When it is missing
// the suites are skipped with a warning, or fail with how to install it under
// HEDDLE_TEST_REQUIRE_SERVICES=1 (CI installs it in .ci/run).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, test } from 'vitest';
import { REQUIRE_SERVICES } from './services.js';

export const CHROMIUM_PATH = process.env.HEDDLE_TEST_CHROMIUM ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS });

/** describe() for suites that need Chromium. */
export function describeWithChromium(title: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(title, body);
    return;
  }
  const why = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set HEDDLE_TEST_CHROMIUM)`;
  if (REQUIRE_SERVICES) {
    describe(title, () => {
      test('Chromium is installed', () => {
        throw new Error(`${why}; HEDDLE_TEST_REQUIRE_SERVICES=1 requires it`);
      });
    });
    return;
  }
  console.warn(`\n[heddle tests] SKIPPING the browser suite "${title}": ${why}.\n`);
  describe.skip(title, body);
}
