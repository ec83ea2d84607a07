/**
 * The rules that keep the shape of the code (README, Development): checked in `npm test` by
 * `npm run depcheck`. Type-only imports count: a cycle through types is still a cycle to read.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles, type-only ones included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-knows-no-http',
      severity: 'error',
      comment: 'The generator core holds the rules: it knows neither Fastify nor any HTTP surface.',
      from: { path: '^src/generator/core/' },
      to: { path: ['^node_modules/(fastify|@fastify/)', '^src/generator/(http|routes|authorization-server)/'] },
    },
    {
      name: 'core-knows-no-provider',
      severity: 'error',
      comment: 'The core sees the identity provider only through idp/identity-provider.ts.',
      from: { path: '^src/generator/core/' },
      to: { path: '^src/generator/idp/(?!identity-provider\\.ts$)' },
    },
    {
      name: 'surfaces-see-only-the-interface',
      severity: 'error',
      comment: 'Which identity provider runs is decided where the parts are wired (src/main.ts), nowhere else in the generator.',
      from: { path: '^src/generator/', pathNot: '^src/generator/idp/' },
      to: { path: '^src/generator/idp/(?!identity-provider\\.ts$)' },
    },
    {
      name: 'emulator-stands-alone',
      severity: 'error',
      comment: 'The emulator and the generator meet only over HTTP; the emulator imports nothing of the generator or the command line.',
      from: { path: '^src/emulator/' },
      to: { path: ['^src/generator/', '^src/cli/', '^src/main\\.ts$'] },
    },
    {
      name: 'generator-without-emulator-internals',
      severity: 'error',
      comment: 'The generator reaches the emulator over HTTP; only the wiring (src/main.ts) starts it.',
      from: { path: '^src/generator/' },
      to: { path: '^src/emulator/', pathNot: '^src/emulator/sign-in-client\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
