// What the polkadot.js scripts share: submitting a transaction, reading its
// events, signing a voucher for a worker.

import { bnToU8a, stringToU8a, u8aConcat, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';

// Signs and submits `tx`, resolves with its events once its block is
// finalized, rejects with the module error's name when it fails.
export function submit(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${section}.${name}: ${docs.join(' ')}`));
        } else {
          reject(new Error(dispatchError.toString()));
        }
        return;
      }
      if (status.isFinalized) {
        resolve({ block: status.asFinalized.toHex(), events });
      }
    }).catch(reject);
  });
}

// The first `section.method` event among `events`.
export function findEvent(events, section, method) {
  const found = events.find(({ event }) => event.section === section && event.method === method);
  if (!found) {
    throw new Error(`no ${section}.${method} event`);
  }
  return found.event;
}

// `pair`'s voucher letting `worker` charge its prepaid credit up to `cap`
// plancks in all for inferences on `model`, until block `expiresAt`, as
// the worker's `POST /v1/vouchered` takes it. The signed payload is
// `openledger/voucher/v1`, the genesis hash, then the SCALE-encoded voucher
// (user, worker, model u32 LE, expiry u32 LE, cap u128 LE). `wallet` form
// signs it wrapped in <Bytes>…</Bytes>, as a browser extension's signRaw
// does; `raw` signs it as it is.
export function signVoucher(api, pair, { worker, model, expiresAt, cap, form = 'wallet' }) {
  const payload = u8aConcat(
    stringToU8a('openledger/voucher/v1'),
    api.genesisHash.toU8a(),
    decodeAddress(pair.address),
    decodeAddress(worker),
    bnToU8a(model, { bitLength: 32, isLe: true }),
    bnToU8a(expiresAt, { bitLength: 32, isLe: true }),
    bnToU8a(cap, { bitLength: 128, isLe: true }),
  );
  const message = form === 'wallet' ? u8aWrapBytes(payload) : payload;
  return {
    user: pair.address,
    worker,
    model,
    expires_at: expiresAt,
    cumulative_fee_cap: cap.toString(),
    signature: u8aToHex(pair.sign(message)),
    form,
  };
}
