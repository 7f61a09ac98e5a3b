// Shared by the render tests: the fixture project and a typical pillar.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/render/project',
);

export function samplePillar(): Record<string, unknown> {
  return {
    postgres: {
      port: 5432,
      listen: ['10.213.0.11', 'localhost'],
      replication: { user: 'replicator', password: "p:a\\ss'w$rd" },
      standbys: [
        { host: 'replica.example.com', address: '10.213.0.12' },
        { host: 'replica2.example.com', address: '10.213.0.13' },
      ],
    },
  };
}
