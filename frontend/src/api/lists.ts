// What the paged lists of the API share.

/**
 * Query parameters of GET /api/jobs and GET /api/queries (things users
 * submit); empty values are left out of the URL.
 */
export interface SubmittedListQuery {
  status?: string
  /** User name of the submitter (for queries: admins only; others always see their own). */
  owner?: string
  /** RFC 3339, submitted at or after. */
  since?: string
  /** RFC 3339, submitted before. */
  until?: string
  page?: number
  per_page?: number
}

/** One page of any list, as every list endpoint answers it. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  per_page: number
}
