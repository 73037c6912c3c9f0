// User administration (admin only): /api/users/*.
import { http, type RequestOptions } from './http'
import type { NewUser, User, UserUpdate } from './types'

export const usersApi = {
  list: (opts?: RequestOptions) => http.get<User[]>('/users', opts),
  get: (id: number, opts?: RequestOptions) => http.get<User>(`/users/${id}`, opts),
  create: (body: NewUser, opts?: RequestOptions) => http.post<User>('/users', body, opts),
  update: (id: number, body: UserUpdate, opts?: RequestOptions) =>
    http.put<User>(`/users/${id}`, body, opts),
}
