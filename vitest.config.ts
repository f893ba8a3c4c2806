import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

const migrations = await readD1Migrations('./migrations')

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // The deployed limit (wrangler.toml) is sized for real traffic; tests reach a
              // smaller one quickly through the same binding.
              ratelimits: {
                INGEST_LIMITER: { namespace_id: '1001', simple: { limit: 150, period: 60 } },
              },
              bindings: {
                CAIRN_ADMIN_KEY: 'test-admin-key',
                CAIRN_IP_SALT: 'test-ip-salt',
                CAIRN_HASH_KEY: 'test-hash-key',
                TEST_MIGRATIONS: migrations,
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: [
            'domain/**/*.test.ts',
            'contracts/**/*.test.ts',
            'edge/**/*.test.ts',
            'durable/**/*.test.ts',
          ],
          setupFiles: ['./test/apply-migrations.ts'],
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['tracker/**/*.node.test.ts', 'bench/**/*.node.test.ts', 'test/*.node.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: [
            'test/e2e/**/*.test.ts',
            'tracker/**/*.e2e.test.ts',
            'console/**/*.e2e.test.ts',
          ],
          globalSetup: ['./test/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
