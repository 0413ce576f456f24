import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Types the explorer's operations from the committed schema (paths from the repository root,
 * where `npm run build:web` runs). Codegen also validates every operation against the schema,
 * so an API change that breaks the explorer fails the build.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    'web/src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTimeISO: 'string', JSON: 'unknown' },
      },
    },
  },
  silent: true,
};

export default config;
