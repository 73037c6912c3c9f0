// Role lists the route table needs: apart from the job and query rules, so the entry chunk
// (which holds the route table) does not carry those modules.
import type { Role } from '@/api/types'

/** Roles that may submit jobs (viewers only read). */
export const JOB_SUBMIT_ROLES: Role[] = ['admin', 'operator', 'developer']
/** Roles that may run queries (viewers only read). */
export const QUERY_ROLES: Role[] = ['admin', 'operator', 'developer']
