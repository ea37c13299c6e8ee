#!/usr/bin/env node
// Signs a voucher from a dev account with @polkadot/api and prints it as the
// worker's `POST /v1/vouchered` takes it (one JSON line).
//
//   node scripts/polkadotjs/voucher.mjs --user //Alice --worker ADDRESS \
//       --model 0 --expires-at 900 --cap 1000000000000000000 [--form raw|wallet]

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { parseArgs } from 'node:util';
import { signVoucher } from './chain.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' },
    user: { type: 'string', default: '//Alice' },
    worker: { type: 'string' },
    model: { type: 'string' },
    'expires-at': { type: 'string' },
    cap: { type: 'string' },
    form: { type: 'string', default: 'wallet' },
  },
});

async function main() {
  for (const name of ['worker', 'model', 'expires-at', 'cap']) {
    if (args[name] === undefined) {
      throw new Error(`--${name} is required`);
    }
  }
  if (args.form !== 'raw' && args.form !== 'wallet') {
    throw new Error(`--form is raw or wallet, not ${args.form}`);
  }
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(args.url), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 });
  const voucher = signVoucher(api, keyring.addFromUri(args.user), {
    worker: args.worker,
    model: Number(args.model),
    expiresAt: Number(args['expires-at']),
    cap: BigInt(args.cap),
    form: args.form,
  });
  console.log(JSON.stringify(voucher));
  await api.disconnect();
}

main().catch((error) => {
  console.error(`voucher.mjs: ${error.message}`);
  process.exit(1);
});
