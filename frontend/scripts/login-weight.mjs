#!/usr/bin/env node
// The JavaScript the login page needs, gzip'd, from a built dist/: the entry chunk and
// everything it imports statically (index.html preloads those), plus the login view's chunk
// and its static imports (loaded when the router resolves /login). Read from Vite's manifest,
// so it counts what the build links, not a guess. Fails above the budget.
//
//   node scripts/login-weight.mjs [dist] [--budget-kb 150] [--json]
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'

const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name, fallback) => {
  const at = args.indexOf(name)
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback
}
const dist = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--budget-kb') ?? 'dist')
const budgetKb = Number(option('--budget-kb', '150'))
const LOGIN_VIEW = 'src/views/LoginView.vue'

let manifest
try {
  manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'))
} catch (err) {
  console.error(`login-weight: no Vite manifest in ${dist}/.vite (run npm run build): ${err.message}`)
  process.exit(2)
}

const entries = Object.entries(manifest).filter(([, c]) => c.isEntry)
if (entries.length !== 1) {
  console.error(`login-weight: expected one entry chunk, found ${entries.length}`)
  process.exit(2)
}
if (!manifest[LOGIN_VIEW]) {
  console.error(`login-weight: ${LOGIN_VIEW} is not a chunk of its own (is the login route lazy?)`)
  process.exit(2)
}

/** A chunk's key and, depth first, the keys of everything it imports statically. */
function withStaticImports(key, seen) {
  if (seen.has(key)) return seen
  seen.add(key)
  for (const dep of manifest[key].imports ?? []) withStaticImports(dep, seen)
  return seen
}

const keys = withStaticImports(LOGIN_VIEW, withStaticImports(entries[0][0], new Set()))
const files = [...new Set([...keys].map((k) => manifest[k].file).filter((f) => f.endsWith('.js')))]
const rows = files
  .map((file) => {
    const body = readFileSync(join(dist, file))
    return { file, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length }
  })
  .sort((a, b) => b.gzip - a.gzip)
const total = rows.reduce((sum, r) => sum + r.gzip, 0)
const budget = budgetKb * 1024
const ok = total <= budget

if (flag('--json')) {
  console.log(JSON.stringify({ total, budget, ok, files: rows }, null, 2))
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`
  for (const r of rows) console.log(`${kb(r.gzip).padStart(10)}  ${r.file}`)
  console.log(`login page JavaScript: ${kb(total)} gzip'd in ${rows.length} files (budget ${kb(budget)})`)
}
if (!ok) {
  console.error(`login-weight: over budget by ${((total - budget) / 1024).toFixed(1)} KB`)
  process.exit(1)
}
