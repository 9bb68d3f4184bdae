// One bundle per entry point. `--watch` rebuilds on change, `--production`
// minifies and drops source maps, `--tests` also compiles the test suites.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');

/** Prints esbuild's problems in the format VS Code's `$esbuild-watch` matcher expects. */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: watch ? 'silent' : 'warning',
  // ssh2's optional native add-on is loaded in a try/catch; bundling it breaks the build.
  external: ['vscode', 'cpu-features', '*.node'],
  plugins: watch ? [problemMatcher] : [],
  define: { __CERTOPS_VERSION__: JSON.stringify(pkg.version) },
};

const bundles = [
  { ...common, entryPoints: { extension: 'client/src/extension.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { server: 'server/src/server.ts' }, outdir: 'dist' },
  {
    ...common,
    entryPoints: { cli: 'server/src/cli/bin.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
];

/** Every `*.test.ts` under test/, plus the VS Code suite's entry, compiled to out/ with packages left external. */
function testBundles() {
  const entries = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.test\.ts$/.test(name) || path === join('test', 'vscode', 'index.ts')) entries.push(path);
    }
  };
  walk('test');
  return {
    ...common,
    entryPoints: entries,
    outdir: 'out',
    outbase: '.',
    packages: 'external',
    external: [...common.external],
    sourcemap: true,
  };
}

if (args.has('--tests')) bundles.push(testBundles());

// The inventory schema is data: VS Code reads it from dist/ (contributes.jsonValidation).
mkdirSync('dist', { recursive: true });
copyFileSync('server/src/inventory/certops.schema.json', 'dist/certops.schema.json');

if (watch) {
  const contexts = await Promise.all(bundles.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(bundles.map((b) => esbuild.build(b)));
}
