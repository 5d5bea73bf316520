// The import graph check run by `npm run check`: no cycle between files, whole tree.
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
