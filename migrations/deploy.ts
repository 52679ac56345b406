// Anchor's post-deploy hook: `anchor migrate` (and `anchor deploy`) call this with a provider built
// from Anchor.toml (cluster + wallet). It creates the roomcast registry of the provider's wallet.
//
//   ROOMCAST_REGISTRAR  base58 pubkey of the backend key allowed to create rooms
//                       (default: the wallet itself)
//
// Idempotent: when the wallet's registry already exists it is left untouched (its registrar is
// printed; change it with `roomcast registry set-registrar`).
//
// Confirmation polls `getSignatureStatuses` instead of websocket subscriptions, so the script works
// against `roomcast localnet` (which has no websocket endpoint) as well as against real clusters.
import * as anchor from "@anchor-lang/core";
import * as fs from "fs";
import * as path from "path";

const { PublicKey, SystemProgram } = anchor.web3;

interface DeployResult {
  registry: anchor.web3.PublicKey;
  registrar: anchor.web3.PublicKey;
  created: boolean;
  signature: string | null;
}

function loadIdl(): anchor.Idl {
  const file = path.resolve(__dirname, "..", "idls", "roomcast.json");
  return JSON.parse(fs.readFileSync(file, "utf8")) as anchor.Idl;
}

function registrarFromEnv(fallback: anchor.web3.PublicKey): anchor.web3.PublicKey {
  const raw = process.env.ROOMCAST_REGISTRAR;
  if (raw === undefined || raw.trim() === "") {
    return fallback;
  }
  try {
    return new PublicKey(raw.trim());
  } catch {
    throw new Error(`ROOMCAST_REGISTRAR is not a base58 public key: ${JSON.stringify(raw)}`);
  }
}

async function sendAndPoll(
  provider: anchor.AnchorProvider,
  tx: anchor.web3.Transaction,
): Promise<string> {
  const connection = provider.connection;
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
  tx.recentBlockhash = blockhash;
  tx.feePayer = provider.wallet.publicKey;
  const signed = await provider.wallet.signTransaction(tx);
  const signature = await connection.sendRawTransaction(signed.serialize(), {
    preflightCommitment: "confirmed",
  });
  for (;;) {
    const { value } = await connection.getSignatureStatuses([signature]);
    const status = value[0];
    if (status !== null) {
      if (status.err !== null) {
        throw new Error(`initialize_registry failed: ${JSON.stringify(status.err)}`);
      }
      if (status.confirmationStatus === "confirmed" || status.confirmationStatus === "finalized") {
        return signature;
      }
    }
    if ((await connection.getBlockHeight("confirmed")) > lastValidBlockHeight) {
      throw new Error(`initialize_registry ${signature} expired before confirmation`);
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

async function deploy(provider: anchor.AnchorProvider): Promise<DeployResult> {
  anchor.setProvider(provider);
  const program = new anchor.Program(loadIdl(), provider);
  const admin = provider.wallet.publicKey;
  const registrar = registrarFromEnv(admin);
  const [registry] = PublicKey.findProgramAddressSync(
    [Buffer.from("registry"), admin.toBuffer()],
    program.programId,
  );

  const existing = await provider.connection.getAccountInfo(registry, "confirmed");
  if (existing !== null) {
    const current = await (program.account as any).registry.fetch(registry);
    console.log(
      `roomcast: registry ${registry.toBase58()} of ${admin.toBase58()} exists ` +
        `(registrar ${current.registrar.toBase58()}); nothing to do`,
    );
    return { registry, registrar: current.registrar, created: false, signature: null };
  }

  const tx = await program.methods
    .initializeRegistry(registrar)
    .accountsStrict({ admin, registry, systemProgram: SystemProgram.programId })
    .transaction();
  const signature = await sendAndPoll(provider, tx);
  console.log(
    `roomcast: initialized registry ${registry.toBase58()} ` +
      `(admin ${admin.toBase58()}, registrar ${registrar.toBase58()}) in ${signature}`,
  );
  return { registry, registrar, created: true, signature };
}

module.exports = deploy;
