// Builds the demo lab (test/lab/demo.ts, on the lab harness) into out/ and loads it,
// for `npm start` and the person-level UI tests, which run as plain Node.
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Bundles test/lab/demo.ts to out/demo-lab.mjs and returns its exports ({ startDemoLab }). */
export async function loadDemoLab() {
  const esbuild = await import('esbuild');
  const outfile = join(ROOT, 'out', 'demo-lab.mjs');
  await esbuild.build({
    entryPoints: [join(ROOT, 'test', 'lab', 'demo.ts')], outfile, bundle: true, platform: 'node', target: 'node20',
    format: 'esm', packages: 'external', sourcemap: true, logLevel: 'warning', absWorkingDir: ROOT,
  });
  return import(pathToFileURL(outfile).href);
}
