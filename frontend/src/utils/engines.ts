// What each engine needs in the target form, and its default port.
import type { Engine } from '@/api/types'

export interface EngineSpec {
  /** 0 for engines without a network port (SQLite). */
  defaultPort: number
  /** SQLite is a file on the AutoDB server: no host, port or credentials. */
  network: boolean
  /** Placeholder for the options JSON, to hint at useful settings. */
  optionsExample: string
}

export const ENGINE_SPECS: Record<Engine, EngineSpec> = {
  postgres: { defaultPort: 5432, network: true, optionsExample: '{"sslmode": "require"}' },
  mysql: { defaultPort: 3306, network: true, optionsExample: '{"ssl": true}' },
  oracle: { defaultPort: 1521, network: true, optionsExample: '{"connect_timeout_s": 10}' },
  sqlite: { defaultPort: 0, network: false, optionsExample: '{"read_only": true}' },
}

/** Every engine's default port, so a port the user never touched follows an engine change. */
export function isDefaultPort(port: number | null): boolean {
  return port === null || Object.values(ENGINE_SPECS).some((s) => s.defaultPort === port)
}

export function formatAddress(engine: Engine, host: string, port: number): string {
  if (!ENGINE_SPECS[engine].network) return ''
  // Bracket IPv6 literals so the port stays readable.
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return `${h}:${port}`
}

/** What a target's server is, when it is more than its engine: MariaDB speaks MySQL's protocol. */
export type EngineFlavour = Engine | 'mariadb'

/**
 * The engine to name for a target: "MariaDB" when a MySQL-engine server's own
 * version string says so (`10.11.6-MariaDB-0+deb12u1`), else the engine.
 */
export function engineFlavour(engine: Engine, serverVersion?: string | null): EngineFlavour {
  return engine === 'mysql' && serverVersion && /mariadb/i.test(serverVersion) ? 'mariadb' : engine
}
