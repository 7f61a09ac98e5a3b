#!/usr/bin/env node
// orch's entry point: global options, then one verb per file in ./verbs (each exports `register`).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { protectCommandWords } from './argv.js';
import { verbFileFor } from './verb-files.js';
import { positiveInt } from './option-values.js';
import { versionText } from './version.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { OrchError, errorMessage } from '../errors.js';
import { setDebug } from '../errors/debug.js';
import { describeError, errorsJson } from '../errors/describe.js';
import { redactor } from '../secrets/redactor.js';
import { installOutputRedaction } from './redacted-output.js';
import type { VerbModule } from './verb.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function loadVerbs(program: Command, only: string | undefined): Promise<void> {
  const dir = path.join(here, 'verbs');
  const files = readdirSync(dir)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map'))
    .filter((f) => only === undefined || f.replace(/\.(js|ts)$/, '') === only)
    .sort();
  for (const file of files) {
    const mod = (await import(path.join(dir, file))) as VerbModule;
    mod.register(program);
  }
}

/** Whether the command line asks for -o json: also read before parsing, for errors commander raises itself. */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some(
    (a, i) =>
      a === '-ojson' || a === '--output=json' || ((a === '-o' || a === '--output') && argv[i + 1] === 'json'),
  );
}

async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  const program = new Command('orch')
    .description('Agentless remote execution over SSH: states, templates, pillar, PostgreSQL replication.')
    .version(
      // git runs only when the version is asked for, not on every invocation.
      argv.includes('-V') || argv.includes('--version') ? versionText() : 'orch',
      '-V, --version',
      'print the version, commit, Node and key dependency versions',
    )
    .option(
      '-r, --root <dir>',
      'project root holding states/, templates/, pillar/, inventory/ (default: $ORCH_ROOT or cwd)',
    )
    .option(
      '-i, --inventory <path>',
      'inventory file or directory (orch YAML, Ansible INI/YAML, salt-ssh roster); repeat for more (default: inventory/)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['human', 'json']).default('human'),
    )
    .option('-j, --parallel <n>', 'hosts worked on at once (default 50)', positiveInt)
    .option(
      '--ssh-config <file>',
      'OpenSSH client config for Host/HostName/User/Port/IdentityFile/ProxyJump (default: orch.yaml ssh_config, else ~/.ssh/config; none: read none)',
    )
    .option(
      '--debug',
      "print each host's generated scripts and raw framed output, and errors with code, causes and stack (masked)",
    )
    // One line saying what is wrong, not the whole help (which buried it).
    .showHelpAfterError('(orch <verb> --help lists what a verb takes)')
    .exitOverride()
    // Under -o json a usage error is printed once, as JSON, by printError below.
    .configureOutput(json ? { outputError: () => undefined, writeErr: () => undefined } : {})
    .hook('preAction', (root) => {
      if ((root.opts() as { debug?: boolean }).debug) setDebug((t) => redactor.redact(t));
    });
  await loadVerbs(program, verbFileFor(program, argv.slice(2)));
  try {
    await program.parseAsync(protectCommandWords(program, argv));
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT.OK;
      if (json) {
        const message = err.message.replace(/^error: /, '');
        printError(new OrchError('BAD_INPUT', message), { output: 'json' });
      }
      return EXIT.BAD_INPUT;
    }
    printError(err, program.opts() as { debug?: boolean; output?: string });
    return exitCodeFor(err);
  }
}

/**
 * An error that escaped a verb: one line per error and the hint of its code, or with --debug its code, causes and
 * stack; with -o json, {"errors": [...]} on stdout. Template, filter and validation errors may quote a value, and
 * the secrets are decrypted by then: every line is masked.
 */
function printError(err: unknown, opts: { debug?: boolean; output?: string }): void {
  if (opts.output === 'json') {
    const json = JSON.stringify({ errors: redactor.redactDeep(errorsJson(err)) }, null, 2);
    process.stdout.write(`${redactor.redact(json)}\n`);
    if (!opts.debug) return;
  }
  const lines = describeError(err, { debug: opts.debug });
  process.stderr.write(lines.map((l) => `orch: ${redactor.redact(l)}\n`).join(''));
}

installOutputRedaction();

// A reader that stops early (`orch run ... | head`, `grep -q`) is not an error of orch's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`orch: internal error: ${redactor.redact(errorMessage(err))}\n`);
    process.exitCode = EXIT.ERROR;
  },
);
