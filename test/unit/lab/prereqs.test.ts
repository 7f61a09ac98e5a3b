import { strict as assert } from 'node:assert';
import { prereqProblem } from '../../../src/lab/prereqs.js';

describe('lab/prereqs', () => {
  const everything = (): boolean => true;

  it('tells to install openssh-server when /usr/sbin/sshd is missing', () => {
    const msg = prereqProblem((f) => f !== '/usr/sbin/sshd', 0);
    assert.match(msg ?? '', /\/usr\/sbin\/sshd: install openssh-server/);
    assert.match(msg ?? '', /does not install packages/);
  });

  it('asks for root, and is satisfied when all tools are there', () => {
    assert.match(prereqProblem(everything, 1000) ?? '', /must run as root/);
    assert.equal(prereqProblem(everything, 0), undefined);
  });
});
