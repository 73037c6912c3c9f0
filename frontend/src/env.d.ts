// vue-tsc type-checks .vue files itself; this declaration is for tools that run
// plain TypeScript over .ts files (typed ESLint), which cannot read an SFC.
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
