// Module resolve hook for tools/docs.mjs: typedoc gets the TypeScript 5.9
// compiler API (the `typescript-5.9` alias), while the project compiles with
// TypeScript 7, whose native package has no JavaScript API for typedoc to use.
export async function resolve(specifier, context, next) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/typedoc/')) return next('typescript-5.9', context);
  return next(specifier, context);
}
