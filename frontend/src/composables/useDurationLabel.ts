// "15 min", "1 h", "1 h 30 min" in the current language.
import { useI18n } from 'vue-i18n'
import { splitDuration } from '@/utils/grants'

export function useDurationLabel(): (seconds: number) => string {
  const { t } = useI18n()
  return (seconds) => {
    const { h, m } = splitDuration(seconds)
    if (h > 0 && m > 0) return t('grants.hoursMinutes', { h, m })
    if (h > 0) return t('grants.hours', { h })
    return t('grants.minutes', { m })
  }
}
