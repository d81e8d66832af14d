/** The V8 flags the server and the operator commands run with, for the database `env` selects, less those the operator gives (see node-flags.mjs). */
export function nodeFlags(env: NodeJS.ProcessEnv, execArgv?: readonly string[]): string[];
