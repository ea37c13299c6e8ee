// What the polkadot.js scripts share: submitting a transaction and reading
// its events.

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
