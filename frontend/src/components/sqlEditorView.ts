// The CodeMirror 6 side of SqlEditor.vue, in a module of its own so it is only
// loaded (a chunk of its own) when an editor is shown, never with the login page.
import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
  completionStatus,
  startCompletion,
} from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap, isolateHistory } from '@codemirror/commands'
import { MariaSQL, MySQL, PLSQL, PostgreSQL, SQLite, StandardSQL, sql, type SQLDialect } from '@codemirror/lang-sql'
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language'
import { Compartment, EditorState, Prec } from '@codemirror/state'
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  placeholder,
} from '@codemirror/view'
import { classHighlighter } from '@lezer/highlight'
import { textToRun, type EditorSchema, type SqlDialect } from '@/utils/sqlEditor'

const DIALECTS: Record<SqlDialect, SQLDialect> = {
  postgresql: PostgreSQL,
  mysql: MySQL,
  mariadb: MariaSQL,
  oracle: PLSQL,
  sqlite: SQLite,
}

export interface SqlEditorOptions {
  parent: HTMLElement
  doc: string
  dialect: SqlDialect | null
  /** The field's label: the editor's accessible name. */
  label: string
  placeholder: string
  /** The field carries an error message (aria-invalid). */
  invalid: boolean
  onChange: (doc: string) => void
  /** Called on Ctrl/Cmd+Enter with the selection or the statement at the cursor; without it the keys do nothing. */
  onRun?: (text: string) => void
  /** The editor wants its schema names: it gained focus, or a completion was asked for. */
  onWantSchema?: () => void
}

export interface SqlEditorHandle {
  setDoc(doc: string): void
  /** The dialect, and the names to complete (none: keywords only); an open completion list is refreshed. */
  setDialect(dialect: SqlDialect | null, schema?: EditorSchema): void
  setLabel(label: string, placeholderText: string, invalid: boolean): void
  focus(): void
  destroy(): void
}

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '13px' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', lineHeight: '1.5', overflow: 'auto' },
  '.cm-content': { padding: '6px 0' },
  '&.cm-focused': { outline: 'none' },
  // CodeMirror's own placeholder grey is below WCAG AA contrast (axe, e2e checkA11y).
  '.cm-placeholder': { color: 'var(--autodb-muted)' },
})

function language(dialect: SqlDialect | null, schema?: EditorSchema) {
  return sql({
    dialect: dialect ? DIALECTS[dialect] : StandardSQL,
    schema: schema?.tree,
    defaultSchema: schema?.defaultSchema,
    upperCaseKeywords: true,
  })
}

function labelAttributes(label: string, placeholderText: string, invalid: boolean) {
  const attrs: Record<string, string> = { 'aria-label': label }
  if (invalid) attrs['aria-invalid'] = 'true'
  return [EditorView.contentAttributes.of(attrs), placeholder(placeholderText)]
}

export function createSqlEditor(opts: SqlEditorOptions): SqlEditorHandle {
  const lang = new Compartment()
  const labels = new Compartment()
  let dialect = opts.dialect

  const run = opts.onRun
  const wantSchema = opts.onWantSchema
  // Asked on focus and by every completion request (a source that only asks, answering
  // nothing), so names are fetched when they are first needed, never with the page.
  const schemaOnDemand = wantSchema
    ? [
        EditorView.domEventHandlers({
          focus: () => {
            wantSchema()
            return false
          },
        }),
        EditorState.languageData.of(() => [
          {
            autocomplete: () => {
              wantSchema()
              return null
            },
          },
        ]),
      ]
    : []
  // Ctrl/Cmd+Enter means "run" wherever there is a SQL editor: where nothing runs it does
  // nothing (not CodeMirror's blank line), so a habit from the console changes no script.
  const runKeys = Prec.highest(
    keymap.of([
      {
        key: 'Mod-Enter',
        run: (view) => {
          const { from, to } = view.state.selection.main
          run?.(textToRun(view.state.doc.toString(), from, to, dialect))
          return true
        },
      },
    ]),
  )

  const view = new EditorView({
    parent: opts.parent,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        syntaxHighlighting(defaultHighlightStyle),
        // Stable token classes (tok-keyword, tok-string…) beside the colours, for tests and user styles.
        syntaxHighlighting(classHighlighter),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        highlightActiveLine(),
        runKeys,
        schemaOnDemand,
        // No Tab binding: Tab leaves the editor, as in any form field.
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
        lang.of(language(dialect)),
        labels.of(labelAttributes(opts.label, opts.placeholder, opts.invalid)),
        // tabindex: the text is in the tab order already (contenteditable); saying so lets
        // checkers see that a keyboard reaches the scrolled region around it.
        EditorView.contentAttributes.of({ spellcheck: 'false', autocapitalize: 'off', autocorrect: 'off', tabindex: '0' }),
        theme,
        EditorView.updateListener.of((update) => {
          if (update.docChanged) opts.onChange(update.state.doc.toString())
        }),
      ],
    }),
  })

  return {
    setDoc(doc) {
      if (doc === view.state.doc.toString()) return
      // A change from outside (Format, a query opened again) is one undo step of its own,
      // never merged with the typing just before it.
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc }, annotations: isolateHistory.of('full') })
    },
    setDialect(next, schema) {
      dialect = next
      view.dispatch({ effects: lang.reconfigure(language(next, schema)) })
      // The names arrived while a list was open (typed before they came): list again with them.
      if (schema && completionStatus(view.state) !== null) startCompletion(view)
    },
    setLabel(label, placeholderText, invalid) {
      view.dispatch({ effects: labels.reconfigure(labelAttributes(label, placeholderText, invalid)) })
    },
    focus() {
      view.focus()
    },
    destroy() {
      view.destroy()
    },
  }
}
