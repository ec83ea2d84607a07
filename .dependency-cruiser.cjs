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
      from: { path: '^(src|packages/entra-emulator/src)/' },
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
      comment: 'Which identity provider runs is decided in idp/providers.ts, nowhere else in the generator.',
      from: { path: '^src/generator/', pathNot: '^src/generator/idp/' },
      to: { path: '^src/generator/idp/(?!identity-provider\\.ts$)' },
    },
    {
      name: 'providers-start-in-one-place',
      severity: 'error',
      comment:
        'Outside idp/, a provider is reached only through the interface, and started only through idp/providers.ts ' +
        '(by src/main.ts, where the parts are wired; src/config.ts asks it which provider the variables configure): a new ' +
        'provider is its folder and its line there.',
      from: { path: '^src/', pathNot: '^src/generator/idp/' },
      to: { path: '^src/generator/idp/(?!identity-provider\\.ts$|providers\\.ts$)' },
    },
    {
      name: 'emulator-stands-alone',
      severity: 'error',
      comment:
        'The emulator is a package of its own: of the root package it imports only the basics both share (its build ' +
        'bundles them), nothing of the generator or the command line.',
      from: { path: '^packages/entra-emulator/' },
      to: { path: '^src/', pathNot: '^src/(audience|config-error|env|escape-html|file-lock|host-names|http-url|make-folder|stop-signals)\\.ts$' },
    },
    {
      name: 'generator-uses-the-emulator-package',
      severity: 'error',
      comment: 'The generator and its wiring use the emulator package by its name, through its public entry (its index.ts).',
      from: { path: '^(src|bin|scripts)/' },
      to: { path: '^packages/entra-emulator/', pathNot: '^packages/entra-emulator/src/index\\.ts$' },
    },
    {
      name: 'only-the-wiring-knows-the-emulator',
      severity: 'error',
      comment:
        'The emulator is one identity provider among others to the generator: only the wiring (main.ts and the local ' +
        'session key beside it) knows it is there, and hands the routes what they need of it.',
      from: { path: '^src/generator/' },
      to: { path: '^packages/entra-emulator/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
