#!/usr/bin/env node
// The contributor path from polkadot.js: a dev account signs a datanet
// contribution, and the script prints the `Contributed` event, the stored
// record and what the rewards ledger holds for the contributor.
//
//   node scripts/polkadotjs/contribute.mjs [--url ws://127.0.0.1:9944]
//       [--contributor //Bob] [--datanet ID] [--text "payload"]
//
// Without --datanet, //Alice first opens a public datanet to contribute to.
// The payload's content hash is its BLAKE2b-256, as the datanets pallet
// expects. Each call waits for finalization. The last line printed is one
// JSON object with the results; the exit status is non-zero, with the
// chain's error named, when a call fails.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import { parseArgs } from 'node:util';
import { findEvent, submit } from './chain.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' },
    contributor: { type: 'string', default: '//Bob' },
    datanet: { type: 'string' },
    text: { type: 'string', default: 'The Zorbian capital, Quillton, sits on the river Vess.' },
  },
});

async function openDatanet(api, owner) {
  const tx = api.tx.datanets.createDatanet(
    'polkadot.js demo',
    'A datanet opened by scripts/polkadotjs/contribute.mjs',
    u8aToHex(blake2AsU8a(stringToU8a('polkadot.js demo datanet'))),
    ['demo'],
    'Public',
    api.consts.datanets.minContributionBond,
  );
  const { events } = await submit(api, tx, owner);
  return findEvent(events, 'datanets', 'DatanetCreated').data.datanet.toNumber();
}

async function main() {
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(args.url), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 });
  const contributor = keyring.addFromUri(args.contributor);

  const datanet = args.datanet === undefined
    ? await openDatanet(api, keyring.addFromUri('//Alice'))
    : Number(args.datanet);

  const payload = stringToU8a(args.text);
  const contentHash = u8aToHex(blake2AsU8a(payload, 256));
  const tx = api.tx.datanets.contribute(
    datanet,
    contentHash,
    payload.length,
    `blob:${contentHash}`,
    'CC-BY-4.0',
    'Text',
  );
  const { block, events } = await submit(api, tx, contributor);
  const contributed = findEvent(events, 'datanets', 'Contributed').data;
  const contribution = contributed.contribution.toNumber();
  console.log(`datanets.Contributed, finalized in ${block}: ${JSON.stringify(contributed.toHuman())}`);

  const at = await api.at(block);
  const record = await at.query.datanets.contributions(contribution);
  const claimable = await at.query.rewards.claimable(contributor.address);
  const claimed = await at.query.rewards.claimed(contributor.address);
  const penalty = await at.query.rewards.penaltyScores(contributor.address);

  console.log(JSON.stringify({
    block,
    datanet,
    contribution,
    contributor: contributor.address,
    contentHash,
    eventContributor: contributed.contributor.toString(),
    eventContentHash: contributed.contentHash.toHex(),
    bond: contributed.bond.toString(),
    deposit: contributed.deposit.toString(),
    status: record.isSome ? record.unwrap().status.type : null,
    rewards: {
      claimable: claimable.toString(),
      claimed: claimed.toString(),
      penaltyScore: penalty.isSome ? penalty.unwrap().score.toNumber() : 0,
    },
  }));
  await api.disconnect();
}

main().catch((error) => {
  console.error(`contribute.mjs: ${error.message}`);
  process.exit(1);
});
