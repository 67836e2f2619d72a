// Builds the console into ../dist (embedded in the binary by assets.go):
// dist/index.html, dist/assets/app.js and dist/assets/app.css. The output
// depends only on src/ and the locked esbuild version, so it is
// reproducible; `--check` builds into a temporary directory and fails when
// the committed dist/ differs (make test runs it).
import * as esbuild from 'esbuild';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'setsuna-console-')) : dist;

rmSync(join(out, 'assets'), { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  outdir: join(out, 'assets'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});
copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));

if (check) {
  const files = (d) => readdirSync(d, { recursive: true }).filter((f) => f.includes('.')).sort();
  const want = files(out);
  const have = files(dist);
  const stale = want.filter((f) => !have.includes(f) || !readFileSync(join(out, f)).equals(readFileSync(join(dist, f))));
  const extra = have.filter((f) => !want.includes(f));
  rmSync(out, { recursive: true, force: true });
  if (stale.length || extra.length) {
    console.error(`internal/console/dist is not the build of internal/console/web/src: ${[...stale, ...extra].join(', ')} differ; run make console and commit dist/`);
    process.exit(1);
  }
  console.log('console assets: dist/ matches a fresh build');
}
