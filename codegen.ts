// Typed documents (client preset): `npm run codegen` reads the committed
// schema.graphql and the graphql(`…`) documents of the tests and of the
// quickstart walkthrough, each set into its own generated/ folder.
import type { CodegenConfig } from '@graphql-codegen/cli';

const clientPreset = {
  preset: 'client',
  presetConfig: { fragmentMasking: false },
  config: { scalars: { DateTime: 'string', JSON: 'unknown' }, enumsAsTypes: true, useTypeImports: true },
} as const;

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': { ...clientPreset, documents: ['test/**/*.ts', '!test/generated/**'] },
    'examples/quickstart/generated/': { ...clientPreset, documents: ['examples/quickstart/*.ts'] },
  },
};

export default config;
