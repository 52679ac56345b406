//! Raw JSON-RPC over HTTP against an in-process [`LocalNode`], plus roomcast instruction builders.
#![allow(dead_code)]

use anchor_lang::{InstructionData, ToAccountMetas};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use roomcast_localnet::{LocalNode, NodeOptions};
use serde_json::{json, Value};
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::{Message, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

pub const SOL: u64 = 1_000_000_000;
pub const API_VERSION: &str = "3.1.12";
pub const INGEST: &str = "rtmps://live.cloudflare.com:443/live/";

pub struct Rpc {
    pub node: LocalNode,
    pub url: String,
    http: reqwest::Client,
}

impl Rpc {
    pub async fn start() -> Rpc {
        let node = LocalNode::start(NodeOptions::default())
            .await
            .expect("node starts");
        Rpc::with_node(node)
    }

    pub fn with_node(node: LocalNode) -> Rpc {
        let url = node.rpc_url();
        Rpc {
            node,
            url,
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `body` as is; returns the parsed JSON body (asserting HTTP 200 and a JSON content type).
    pub async fn post_raw(&self, body: impl Into<String>) -> Value {
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
            .expect("http request");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        response.json().await.expect("json body")
    }

    /// One call; returns the whole envelope after checking `jsonrpc` and `id`.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let envelope = self
            .post_raw(
                json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params })
                    .to_string(),
            )
            .await;
        assert_eq!(envelope["jsonrpc"], "2.0", "{envelope}");
        assert_eq!(envelope["id"], 7, "{envelope}");
        envelope
    }

    /// The `result` of a call that must succeed (the envelope has exactly jsonrpc, result, id).
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let envelope = self.call(method, params).await;
        assert!(
            envelope.get("error").is_none(),
            "{method} failed: {envelope}"
        );
        assert_eq!(keys(&envelope), ["id", "jsonrpc", "result"], "{envelope}");
        envelope["result"].clone()
    }

    /// The `error` of a call that must fail (no `result` in the envelope).
    pub async fn err(&self, method: &str, params: Value) -> Value {
        let envelope = self.call(method, params).await;
        assert_eq!(keys(&envelope), ["error", "id", "jsonrpc"], "{envelope}");
        envelope["error"].clone()
    }

    pub async fn airdrop(&self, to: &Pubkey, lamports: u64) -> String {
        let sig = self
            .ok("requestAirdrop", json!([to.to_string(), lamports]))
            .await;
        sig.as_str().expect("signature string").to_string()
    }

    /// `signer`, funded for fees; returns a copy usable as a transaction signer.
    pub async fn funded_signer(&self, signer: &Keypair) -> Keypair {
        self.airdrop(&signer.pubkey(), SOL).await;
        signer.insecure_clone()
    }

    pub async fn funded(&self) -> Keypair {
        let k = Keypair::new();
        self.airdrop(&k.pubkey(), 10 * SOL).await;
        k
    }

    pub async fn blockhash(&self) -> Hash {
        let r = self.ok("getLatestBlockhash", json!([])).await;
        r["value"]["blockhash"].as_str().unwrap().parse().unwrap()
    }

    pub async fn slot(&self) -> u64 {
        self.ok("getSlot", json!([])).await.as_u64().unwrap()
    }

    pub async fn balance(&self, of: &Pubkey) -> u64 {
        self.ok("getBalance", json!([of.to_string()])).await["value"]
            .as_u64()
            .unwrap()
    }

    /// A signed transaction on the latest blockhash (the first signer pays).
    pub async fn tx(&self, ixs: &[Instruction], signers: &[&Keypair]) -> VersionedTransaction {
        let blockhash = self.blockhash().await;
        tx_with(ixs, signers, blockhash)
    }

    /// `sendTransaction` (base64); returns the envelope.
    pub async fn send(&self, tx: &VersionedTransaction) -> Value {
        self.call(
            "sendTransaction",
            json!([b64(tx), { "encoding": "base64" }]),
        )
        .await
    }

    /// Sends and asserts success; returns the signature.
    pub async fn send_ok(&self, ixs: &[Instruction], signers: &[&Keypair]) -> String {
        let tx = self.tx(ixs, signers).await;
        let sig = self
            .ok(
                "sendTransaction",
                json!([b64(&tx), { "encoding": "base64" }]),
            )
            .await;
        assert_eq!(sig, tx.signatures[0].to_string());
        sig.as_str().unwrap().to_string()
    }

    /// An account's raw data (base64 encoding), `None` if it does not exist.
    pub async fn account_data(&self, address: &Pubkey) -> Option<Vec<u8>> {
        let r = self
            .ok(
                "getAccountInfo",
                json!([address.to_string(), { "encoding": "base64" }]),
            )
            .await;
        let v = &r["value"];
        if v.is_null() {
            return None;
        }
        Some(B64.decode(v["data"][0].as_str().unwrap()).unwrap())
    }
}

pub fn tx_with(ixs: &[Instruction], signers: &[&Keypair], blockhash: Hash) -> VersionedTransaction {
    let message = Message::new_with_blockhash(ixs, Some(&signers[0].pubkey()), &blockhash);
    VersionedTransaction::try_new(VersionedMessage::Legacy(message), signers).expect("signs")
}

pub fn wire(tx: &VersionedTransaction) -> Vec<u8> {
    bincode::serialize(tx).unwrap()
}

pub fn b64(tx: &VersionedTransaction) -> String {
    B64.encode(wire(tx))
}

pub fn b58(tx: &VersionedTransaction) -> String {
    bs58::encode(wire(tx)).into_string()
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Asserts the `{context: {slot, apiVersion}, value}` wrapper and returns (slot, value).
pub fn context(result: &Value) -> (u64, Value) {
    assert_eq!(keys(result), ["context", "value"], "{result}");
    assert_eq!(keys(&result["context"]), ["apiVersion", "slot"], "{result}");
    assert_eq!(result["context"]["apiVersion"], API_VERSION);
    let slot = result["context"]["slot"].as_u64().expect("slot is a u64");
    (slot, result["value"].clone())
}

pub fn transfer(from: &Pubkey, to: &Pubkey, lamports: u64) -> Instruction {
    solana_system_interface::instruction::transfer(from, to, lamports)
}

// ---- roomcast ---------------------------------------------------------------------------------

pub fn program_id() -> Pubkey {
    roomcast::ID
}

pub fn registry_address(admin: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[b"registry", admin.as_ref()], &roomcast::ID).0
}

pub fn room_address(registry: &Pubkey, session_id: &str) -> Pubkey {
    Pubkey::find_program_address(
        &[b"room", registry.as_ref(), session_id.as_bytes()],
        &roomcast::ID,
    )
    .0
}

pub fn sid(n: u32) -> String {
    format!("{:032x}", 0xabc0_0000_u128 + n as u128)
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

pub fn initialize_registry_ix(admin: &Pubkey, registrar: &Pubkey) -> Instruction {
    ix(
        roomcast::accounts::InitializeRegistry {
            admin: *admin,
            registry: registry_address(admin),
            system_program: Pubkey::default(),
        },
        roomcast::instruction::InitializeRegistry {
            registrar: *registrar,
        },
    )
}

pub fn create_room_ix(
    registrar: &Pubkey,
    registry: &Pubkey,
    session_id: &str,
    title: &str,
    host: &Pubkey,
) -> Instruction {
    ix(
        roomcast::accounts::CreateRoom {
            registrar: *registrar,
            registry: *registry,
            room: room_address(registry, session_id),
            system_program: Pubkey::default(),
        },
        roomcast::instruction::CreateRoom {
            session_id: session_id.into(),
            ingest_url: INGEST.into(),
            title: title.into(),
            host: *host,
        },
    )
}

pub fn end_room_ix(authority: &Pubkey, registry: &Pubkey, room: &Pubkey) -> Instruction {
    ix(
        roomcast::accounts::EndRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
        },
        roomcast::instruction::EndRoom {},
    )
}

/// An operator: admin, registrar and registry (initialized), all funded.
pub struct Operator {
    pub admin: Keypair,
    pub registrar: Keypair,
    pub registry: Pubkey,
}

impl Operator {
    pub async fn new(rpc: &Rpc) -> Operator {
        let admin = rpc.funded().await;
        let registrar = rpc.funded().await;
        rpc.send_ok(
            &[initialize_registry_ix(&admin.pubkey(), &registrar.pubkey())],
            &[&admin],
        )
        .await;
        Operator {
            registry: registry_address(&admin.pubkey()),
            admin,
            registrar,
        }
    }

    /// Creates a room; returns (room address, signature).
    pub async fn create_room(
        &self,
        rpc: &Rpc,
        session_id: &str,
        host: &Pubkey,
    ) -> (Pubkey, String) {
        let sig = rpc
            .send_ok(
                &[create_room_ix(
                    &self.registrar.pubkey(),
                    &self.registry,
                    session_id,
                    &format!("Room {session_id}"),
                    host,
                )],
                &[&self.registrar],
            )
            .await;
        (room_address(&self.registry, session_id), sig)
    }
}

/// A blockhash no node produced.
pub fn random_hash() -> Hash {
    Hash::new_from_array(Pubkey::new_unique().to_bytes())
}
