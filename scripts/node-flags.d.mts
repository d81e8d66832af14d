/** The V8 flags the server and the operator commands run with, for the database `env` selects (see node-flags.mjs). */
export function nodeFlags(env: NodeJS.ProcessEnv): string[];
