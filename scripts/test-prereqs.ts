// Run by `npm test` before mocha: stops at once, with one line saying what to run, on a machine without what the
// integration suites need, instead of a long run that ends in failures (or, worse, silent skips).
import { missingPrereqs, PREREQ_HINT, UNIT_ONLY } from '../test/helpers/prereqs.js';

if (UNIT_ONLY) {
  process.stderr.write(
    'npm test: ORCH_TEST_UNIT_ONLY=1: suites that need sshd, the lab or PostgreSQL skip\n',
  );
} else {
  const missing = missingPrereqs();
  if (missing.length) {
    process.stderr.write(`npm test: this machine lacks ${missing.join(', ')}: ${PREREQ_HINT}\n`);
    process.exit(1);
  }
}
