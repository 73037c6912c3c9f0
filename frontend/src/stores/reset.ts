// Cached resources belong to the user who loaded them: drop them all when the
// user changes, so the next user never sees the previous one's data.
import { useAuditStore } from './audit'
import { useGrantsStore } from './grants'
import { useJobsStore } from './jobs'
import { useQueriesStore } from './queries'
import { useTokensStore } from './tokens'
import { useTargetsStore } from './targets'
import { useUsersStore } from './users'

export function resetResourceStores(): void {
  useTargetsStore().reset()
  useUsersStore().reset()
  useAuditStore().reset()
  useTokensStore().reset()
  useJobsStore().reset()
  useQueriesStore().reset()
  useGrantsStore().reset()
}
