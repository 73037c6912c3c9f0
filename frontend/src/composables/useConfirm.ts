// A confirmation dialog for destructive actions. The dialog stays open with a
// spinner while the action runs, and closes only when it succeeded.
import { useDialog } from 'naive-ui'
import { useI18n } from 'vue-i18n'

export interface ConfirmOptions {
  title: string
  content: string
  positiveText: string
  onConfirm: () => Promise<void>
}

export function useConfirm(): (opts: ConfirmOptions) => void {
  const dialog = useDialog()
  const { t } = useI18n()
  return (opts) => {
    dialog.warning({
      title: opts.title,
      content: opts.content,
      positiveText: opts.positiveText,
      negativeText: t('common.cancel'),
      positiveButtonProps: { type: 'error' },
      // Returning false keeps the dialog open; the transport already toasted the error.
      onPositiveClick: () => opts.onConfirm().then(
        () => true,
        () => false,
      ),
    })
  }
}
