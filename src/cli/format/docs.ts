// The generated pages of docs/, by path: written by `npm run docs`, compared by a unit test.
import { z } from 'zod';
import { buildSettingsSchema } from '../../config/settings-schema.js';
import { buildInventorySchemas } from '../../inventory/schema.js';
import { argDocs, stateDocs } from '../../states/reference.js';
import { exitCodesMarkdown, keysMarkdown, statesMarkdown } from './reference.js';

const settingsSchema = buildSettingsSchema(z);
const { defaultsSchema, groupSchema, hostSchema } = buildInventorySchemas(z);

function inventoryMarkdown(): string {
  return keysMarkdown(
    'src/inventory/schema.ts',
    'Inventory',
    [
      'Hosts, groups and vars, in YAML files under `inventory/` (every `*.yaml`/`*.yml` of the directory, or the',
      'files given with `-i`). An unknown key is an error naming the file and line. `orch hosts <target>` lists',
      'what a target matches; [TARGETING.md](TARGETING.md) has the target grammar.',
      '',
      '```yaml',
      'defaults:',
      '  user: root',
      '  identity: .orch/lab/id_ed25519',
      'hosts:',
      '  primary.example.com:',
      '    address: 10.213.0.11',
      '    groups: [db, pg_primary]',
      '    vars: { pg_role: primary }',
      'groups:',
      '  db:',
      '    vars: { backup: nightly }',
      '```',
    ],
    [
      { heading: 'defaults', about: 'Apply to the hosts of the same file.', keys: argDocs(defaultsSchema) },
      {
        heading: 'hosts.<name>',
        about: 'One host; an empty entry takes every default.',
        keys: argDocs(hostSchema.unwrap()),
      },
      {
        heading: 'groups.<name>',
        about: 'A group: vars for its members, and more members.',
        keys: argDocs(groupSchema.unwrap()),
      },
    ],
    [
      "A host's groups are its own `groups:` list, then the groups that list it under `groups.<name>.hosts`, in the",
      "order declared. Its vars are those groups' vars in that order, deep-merged, then its own (later wins, lists",
      'replaced).',
    ],
  );
}

function orchYamlMarkdown(): string {
  const jobs = settingsSchema.shape.jobs.unwrap();
  return keysMarkdown(
    'src/config/settings.ts',
    'orch.yaml',
    [
      'Optional project settings, in `orch.yaml` at the project root. An unknown key or a wrong type is an error',
      'naming the file and the line (`CONFIG_ERROR`, exit 4). Command-line options and `ORCH_*` variables win:',
      '`-i` over `inventory`, `-j` over `parallel`, `ORCH_STATE_DIR`, `ORCH_KNOWN_HOSTS`, `ORCH_JOB_STORE`.',
      '',
      '```yaml',
      'parallel: 20',
      'connect_timeout: 10',
      'jobs:',
      '  store: postgres://orch@db.example.com/orch',
      '  retention: 30d',
      '```',
    ],
    [
      {
        heading: 'top level',
        about: 'Paths are relative to the project root.',
        keys: argDocs(settingsSchema).filter((k) => k.name !== 'jobs'),
      },
      {
        heading: 'jobs',
        about: 'Durations: a number of seconds or `30s`, `5m`, `2h`, `30d`.',
        keys: argDocs(jobs),
      },
    ],
  );
}

export function generatedDocs(): Record<string, string> {
  return {
    'docs/STATES.md': statesMarkdown(stateDocs()),
    'docs/EXIT-CODES.md': exitCodesMarkdown(),
    'docs/INVENTORY.md': inventoryMarkdown(),
    'docs/ORCH-YAML.md': orchYamlMarkdown(),
  };
}
