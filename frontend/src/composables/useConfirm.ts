// A confirmation dialog. The dialog stays open with a spinner while the action
// runs, and closes only when it succeeded. Destructive actions (the default)
// get a warning dialog with a red button; others an info dialog.
import { useDialog } from 'naive-ui'
import { useI18n } from 'vue-i18n'

export interface ConfirmOptions {
  title: string
  content: string
  positiveText: string
  /** Defaults to "Cancel"; set it when the action itself is a cancel. */
  negativeText?: string
  /** Defaults to true. */
  destructive?: boolean
  onConfirm: () => Promise<void>
}

export function useConfirm(): (opts: ConfirmOptions) => void {
  const dialog = useDialog()
  const { t } = useI18n()
  return (opts) => {
    const destructive = opts.destructive ?? true
    const show = destructive ? dialog.warning : dialog.info
    show({
      title: opts.title,
      content: opts.content,
      positiveText: opts.positiveText,
      negativeText: opts.negativeText ?? t('common.cancel'),
      positiveButtonProps: { type: destructive ? 'error' : 'primary' },
      // Returning false keeps the dialog open; the transport already toasted the error.
      onPositiveClick: () => opts.onConfirm().then(
        () => true,
        () => false,
      ),
    })
  }
}
