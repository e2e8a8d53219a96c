// `npm run docs`: the API reference from the TSDoc comments, with typedoc,
// into docs/api/ (git-ignored; `--out DIR` elsewhere). typedoc runs on the
// TypeScript 5.9 compiler (tools/typedoc-typescript.mjs); package.json's
// `overrides` lets npm accept it next to the project's TypeScript 7.
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

register('./typedoc-typescript.mjs', import.meta.url);
const { Application, LogLevel } = await import('typedoc');

const root = fileURLToPath(new URL('..', import.meta.url));
const i = process.argv.indexOf('--out');
const out = i > 0 ? process.argv[i + 1] : `${root}docs/api`;

const app = await Application.bootstrapWithPlugins({
  entryPoints: [`${root}src/index.ts`],
  tsconfig: `${root}tsconfig.build.json`,
  name: 'lepton',
  readme: 'none',
  // `npm run check` type-checks; here a fresh clone without the build's generated files
  // (src/backends/wasm/kernel-exports.gen.ts, internal) still gets its reference.
  skipErrorChecking: true,
  excludeInternal: true,      // @internal names are not public API
  excludePrivate: true,
  excludeProtected: true,
  includeVersion: true,
  disableGit: true,           // source links without asking git (a clone may have no remote)
  sourceLinkTemplate: 'https://github.com/lepton-ml/lepton/blob/{gitRevision}/{path}#L{line}',
  gitRevision: 'main',
  sort: ['kind', 'instance-first', 'alphabetical-ignoring-documents'],
  validation: { notExported: false, invalidLink: true, notDocumented: false },
  logLevel: LogLevel.Warn,
  treatWarningsAsErrors: false,
});
const project = await app.convert();
if (!project) {
  console.error('docs: typedoc could not convert the project (see the errors above)');
  process.exit(1);
}
await app.generateDocs(project, out);
console.log(`docs: API reference in ${out}/index.html`);
