// Two creates racing on one container id: exactly one wins, the other gets runc's text, and the
// loser removes nothing of the winner's (no rollback of a claim it never made).
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, startSimNode, type SimNode } from './helpers/env.js';
import { ctConfigs, leftovers } from './helpers/node-checks.js';

const node: SimNode = startSimNode('race');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-race-'));
const bundle = makeBundle(work, 'sleeper', { args: ['sleep', '1000'] });
const ROUNDS = 8;

t.test(`${ROUNDS} rounds of two creates with the same id at once`, async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const id = `race-${round}`;
    const racers = [createWithPipes(node, id, bundle), createWithPipes(node, id, bundle)];
    const codes = await Promise.all(racers.map((r) => r.exited));
    t.same([...codes].sort(), [0, 1], `round ${round}: one wins, one loses`);
    const loser = racers[codes.indexOf(1)]!;
    t.equal(loser.err(), 'container with given ID already exists\n', `round ${round}: the loser's text`);
    const vmid = (JSON.parse(readFileSync(join(node.stateRoot, id, 'state.json'), 'utf8')) as { vmid: number }).vmid;
    t.same(ctConfigs(node), [vmid], `round ${round}: one CT, the winner's`);
    t.equal(JSON.parse(pxoci(node, ['state', id]).stdout).status, 'created', `round ${round}: the winner's container is intact`);
    t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
    t.same(leftovers(node, id), {});
    await Promise.all(racers.map((r) => r.closed));
  }
});
