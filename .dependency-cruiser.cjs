// The import graph check run by `npm run check`: no cycle between files, whole tree; the root
// test/ folder is imported only from itself, and packages never import apps.
// Type-only imports count (tsPreCompilationDeps), since a cycle through a type still
// ties the two files together for a reader. Workspace packages resolve through their
// node_modules symlinks to their real files, so a cycle across packages shows too.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Files import each other (directly or through others): move what both need to a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-root-test-outside-test',
      severity: 'error',
      comment:
        'Only test/ imports the root test/ folder: a helper others need is a NAME.fixture.ts of the package it tests, exported by its ./testing subpath.',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-apps-from-packages',
      severity: 'error',
      comment: 'Packages sit below the apps: what a package needs from an app belongs in a package.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '(^|/)dist/', '^packages/stages/libdir/', '^test/data/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.js', '.json'],
      mainFields: ['module', 'main'],
    },
  },
};
