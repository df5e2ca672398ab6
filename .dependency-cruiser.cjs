/** Enforces the hexagonal dependency rule: dependencies point inward only. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain imports nothing outside itself except fp-ts (Either/pipe).',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: ['^src/domain', 'node_modules/fp-ts'] },
    },
    {
      name: 'application-depends-on-domain-only',
      comment: 'src/application imports only itself, the domain and fp-ts.',
      severity: 'error',
      from: { path: '^src/application' },
      to: { pathNot: ['^src/application', '^src/domain', 'node_modules/fp-ts'] },
    },
    {
      name: 'infrastructure-does-not-depend-on-interfaces',
      severity: 'error',
      from: { path: '^src/infrastructure' },
      to: { path: '^src/interfaces' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
