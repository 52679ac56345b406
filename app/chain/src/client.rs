use std::sync::Arc;
use std::time::Duration;

use anchor_client::anchor_lang::AccountDeserialize;
use anchor_client::{Client, ClientError, Cluster, Program};
use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signature::Signature;
use solana_signer::Signer;

use roomcast::state::{parse_session_id, room_offsets, Registry, RoomStatus};

use crate::address::{registry_address, room_address};
use crate::error::ChainError;
use crate::room::Room;

/// Default bound on how long a sent transaction may take to confirm.
const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on one RPC request.
const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// A room to register: the live input's uid is the session id.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub session_id: String,
    pub ingest_url: String,
    pub title: String,
    pub host: Pubkey,
}

/// A transaction signed but not yet sent: its signature, and the last block height at which it
/// can land.
#[derive(Clone)]
pub struct SignedTransaction {
    pub signature: Signature,
    pub last_valid_block_height: u64,
    tx: anchor_client::Transaction,
}

/// Server-side filters for [`RoomcastChain::rooms`] (all optional, combined with AND).
#[derive(Debug, Clone, Default)]
pub struct RoomFilter {
    pub registry: Option<Pubkey>,
    pub status: Option<RoomStatus>,
    pub host: Option<Pubkey>,
}

/// What a sliced listing tells of a room (status through `updated_at`): enough to see whether the
/// copy one holds is current ([`RoomcastChain::registry_room_stamps_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomStamp {
    pub address: Pubkey,
    pub status: RoomStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RoomStamp {
    /// Bytes from the status through `updated_at`: status, bump, session id, two timestamps.
    pub const SLICE_LEN: usize = 1 + 1 + 16 + 8 + 8;

    fn decode(address: Pubkey, slice: &[u8]) -> Option<RoomStamp> {
        if slice.len() != Self::SLICE_LEN {
            return None;
        }
        let status = match slice[0] {
            0 => RoomStatus::Created,
            1 => RoomStatus::Live,
            2 => RoomStatus::Ended,
            _ => return None,
        };
        Some(RoomStamp {
            address,
            status,
            created_at: i64::from_le_bytes(slice[18..26].try_into().ok()?),
            updated_at: i64::from_le_bytes(slice[26..34].try_into().ok()?),
        })
    }
}

/// A room with its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub address: Pubkey,
    pub room: Room,
}

/// The roomcast program seen through one signer, which signs and pays for every transaction it
/// sends (the registrar for the backend, the host's wallet for a user ending their own room).
#[derive(Clone)]
pub struct RoomcastChain {
    program: Arc<Program<Arc<Keypair>>>,
    rpc: Arc<RpcClient>,
    signer: Arc<Keypair>,
    program_id: Pubkey,
    rpc_url: String,
    confirm_timeout: Duration,
}

impl RoomcastChain {
    pub fn new(rpc_url: &str, signer: Keypair, program_id: Pubkey) -> Result<Self, ChainError> {
        let signer = Arc::new(signer);
        let ws_url = ws_url_for(rpc_url);
        let client = Client::new_with_options(
            Cluster::Custom(rpc_url.to_string(), ws_url),
            signer.clone(),
            CommitmentConfig::confirmed(),
        );
        let program = client
            .program(program_id)
            .map_err(|e| ChainError::InvalidInput(e.to_string()))?;
        let rpc = RpcClient::new_with_timeout_and_commitment(
            rpc_url.to_string(),
            DEFAULT_RPC_TIMEOUT,
            CommitmentConfig::confirmed(),
        );
        Ok(RoomcastChain {
            program: Arc::new(program),
            rpc: Arc::new(rpc),
            signer,
            program_id,
            rpc_url: rpc_url.to_string(),
            confirm_timeout: DEFAULT_CONFIRM_TIMEOUT,
        })
    }

    /// Bounds how long [`send`](Self) waits for confirmation.
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    pub fn program_id(&self) -> Pubkey {
        self.program_id
    }

    pub fn rpc_url(&self) -> &str {
        &self.rpc_url
    }

    pub fn signer_pubkey(&self) -> Pubkey {
        self.signer.pubkey()
    }

    pub(crate) fn signer(&self) -> &Keypair {
        &self.signer
    }

    pub(crate) fn confirm_timeout(&self) -> Duration {
        self.confirm_timeout
    }

    pub fn registry_address(&self, admin: &Pubkey) -> Pubkey {
        registry_address(&self.program_id, admin)
    }

    pub fn room_address(&self, registry: &Pubkey, session_id: &str) -> Pubkey {
        room_address(&self.program_id, registry, session_id)
    }

    /// Cheap liveness probe of the RPC node.
    pub async fn health(&self) -> Result<u64, ChainError> {
        self.rpc.get_slot().await.map_err(ChainError::rpc)
    }

    pub async fn balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        self.rpc.get_balance(address).await.map_err(ChainError::rpc)
    }

    /// Creates the signer's registry, naming `registrar`. Returns (registry, signature).
    pub async fn initialize_registry(
        &self,
        registrar: Pubkey,
    ) -> Result<(Pubkey, Signature), ChainError> {
        let admin = self.signer.pubkey();
        let registry = self.registry_address(&admin);
        let sig = self
            .send(
                roomcast::accounts::InitializeRegistry {
                    admin,
                    registry,
                    system_program: anchor_lang::system_program::ID,
                },
                roomcast::instruction::InitializeRegistry { registrar },
            )
            .await?;
        Ok((registry, sig))
    }

    pub async fn set_registrar(
        &self,
        registry: Pubkey,
        new_registrar: Pubkey,
    ) -> Result<Signature, ChainError> {
        self.send(
            roomcast::accounts::SetRegistrar {
                admin: self.signer.pubkey(),
                registry,
            },
            roomcast::instruction::SetRegistrar { new_registrar },
        )
        .await
    }

    /// Registers a room (signer = the registry's registrar, who pays the rent).
    pub async fn create_room(
        &self,
        registry: Pubkey,
        new_room: NewRoom,
    ) -> Result<(Pubkey, Signature), ChainError> {
        let (room, signed) = self.sign_create_room(registry, new_room).await?;
        Ok((room, self.send_signed(&signed).await?))
    }

    /// Signs `create_room` without sending it, so a caller can write down its signature and the
    /// block height after which it can no longer land before it sends (crash-safe creates). The
    /// room's address follows from the session id: a second `create_room` for the same session id
    /// fails with `AccountAlreadyInUse`, whichever lands first.
    pub async fn sign_create_room(
        &self,
        registry: Pubkey,
        new_room: NewRoom,
    ) -> Result<(Pubkey, SignedTransaction), ChainError> {
        self.sign_create_gated_room(registry, new_room, None).await
    }

    /// [`Self::sign_create_room`], with `set_gate` in the same transaction when `gate` is given
    /// (the registrar pays the gate's rent): a gated room never exists ungated, not even briefly.
    pub async fn sign_create_gated_room(
        &self,
        registry: Pubkey,
        new_room: NewRoom,
        gate: Option<crate::gate::NewGate>,
    ) -> Result<(Pubkey, SignedTransaction), ChainError> {
        let room = self.room_address(&registry, &new_room.session_id);
        use anchor_lang::{InstructionData, ToAccountMetas};
        let mut request = self
            .program
            .request()
            .instruction(solana_instruction::Instruction {
                program_id: self.program_id,
                accounts: roomcast::accounts::CreateRoom {
                    registrar: self.signer.pubkey(),
                    registry,
                    room,
                    system_program: anchor_lang::system_program::ID,
                }
                .to_account_metas(None),
                data: roomcast::instruction::CreateRoom {
                    session_id: new_room.session_id,
                    ingest_url: new_room.ingest_url,
                    title: new_room.title,
                    host: new_room.host,
                }
                .data(),
            });
        if let Some(gate) = gate {
            request = request.instruction(solana_instruction::Instruction {
                program_id: self.program_id,
                accounts: roomcast::accounts::SetGate {
                    authority: self.signer.pubkey(),
                    registry,
                    room,
                    mint: gate.mint,
                    gate: crate::gate::gate_address(&self.program_id, &room),
                    system_program: anchor_lang::system_program::ID,
                }
                .to_account_metas(None),
                data: roomcast::instruction::SetGate {
                    min_amount: gate.min_amount,
                }
                .data(),
            });
        }
        // Nothing is sent yet: a node that cannot hand out a blockhash means "surely not landed".
        let (blockhash, last_valid_block_height) = record(
            "get_latest_blockhash",
            self.rpc
                .get_latest_blockhash_with_commitment(CommitmentConfig::confirmed())
                .await
                .map_err(ChainError::unreachable),
        )?;
        let mut tx = request.transaction();
        tx.try_sign(&[self.signer.as_ref()], blockhash)
            .map_err(|e| ChainError::InvalidInput(e.to_string()))?;
        Ok((
            room,
            SignedTransaction {
                signature: tx.signatures[0],
                last_valid_block_height,
                tx,
            },
        ))
    }

    /// Sends a signed transaction and waits (bounded) for its confirmation.
    pub async fn send_signed(&self, signed: &SignedTransaction) -> Result<Signature, ChainError> {
        let result = match tokio::time::timeout(
            self.confirm_timeout,
            self.rpc.send_and_confirm_transaction(&signed.tx),
        )
        .await
        {
            Ok(result) => result
                .map_err(|e| ChainError::from_client(ClientError::SolanaClientError(Box::new(e)))),
            Err(_) => Err(ChainError::ConfirmationTimeout(self.confirm_timeout)),
        };
        record("send_transaction", result)
    }

    /// The current block height (a transaction whose blockhash's last valid block height is below
    /// it can no longer land).
    pub async fn block_height(&self) -> Result<u64, ChainError> {
        self.rpc.get_block_height().await.map_err(ChainError::rpc)
    }

    /// Renames a room. The signer pays the rent of a longer title; a shorter one refunds `payer`,
    /// which must be the payer the room records (callers have the room at hand).
    pub async fn update_room(
        &self,
        registry: Pubkey,
        room: Pubkey,
        payer: Pubkey,
        title: String,
    ) -> Result<Signature, ChainError> {
        self.send(
            roomcast::accounts::UpdateRoom {
                authority: self.signer.pubkey(),
                registry,
                room,
                payer,
                system_program: anchor_lang::system_program::ID,
            },
            roomcast::instruction::UpdateRoom { title },
        )
        .await
    }

    pub async fn set_live(&self, registry: Pubkey, room: Pubkey) -> Result<Signature, ChainError> {
        self.send(
            roomcast::accounts::SetLive {
                registrar: self.signer.pubkey(),
                registry,
                room,
            },
            roomcast::instruction::SetLive {},
        )
        .await
    }

    pub async fn end_room(&self, registry: Pubkey, room: Pubkey) -> Result<Signature, ChainError> {
        self.send(
            roomcast::accounts::EndRoom {
                authority: self.signer.pubkey(),
                registry,
                room,
            },
            roomcast::instruction::EndRoom {},
        )
        .await
    }

    /// Closes an ended room; the rent goes to the payer recorded in the room.
    pub async fn close_room(
        &self,
        registry: Pubkey,
        room: Pubkey,
    ) -> Result<Signature, ChainError> {
        let payer = self
            .room(&room)
            .await?
            .ok_or_else(|| ChainError::AccountNotFound(room.to_string()))?
            .payer;
        self.send(
            roomcast::accounts::CloseRoom {
                authority: self.signer.pubkey(),
                registry,
                room,
                payer,
            },
            roomcast::instruction::CloseRoom {},
        )
        .await
    }

    /// The gate of `room`, `None` for an ungated room.
    pub async fn gate(&self, room: &Pubkey) -> Result<Option<crate::gate::Gate>, ChainError> {
        self.fetch(&crate::gate::gate_address(&self.program_id, room))
            .await
    }

    /// Every gate of this program (one `getProgramAccounts` on the gate's discriminator), by room.
    pub async fn all_gates(&self) -> Result<Vec<crate::gate::Gate>, ChainError> {
        let found = self
            .program
            .accounts::<crate::gate::Gate>(vec![])
            .await
            .map_err(ChainError::from_client);
        Ok(record("get_program_accounts", found)?
            .into_iter()
            .map(|(_, gate)| gate)
            .collect())
    }

    /// Gates `room` (signer: host or registrar, who pays the gate's rent).
    pub async fn set_gate(
        &self,
        registry: Pubkey,
        room: Pubkey,
        gate: crate::gate::NewGate,
    ) -> Result<Signature, ChainError> {
        self.send(
            roomcast::accounts::SetGate {
                authority: self.signer.pubkey(),
                registry,
                room,
                mint: gate.mint,
                gate: crate::gate::gate_address(&self.program_id, &room),
                system_program: anchor_lang::system_program::ID,
            },
            roomcast::instruction::SetGate {
                min_amount: gate.min_amount,
            },
        )
        .await
    }

    /// Changes `room`'s gate (signer: host or registrar).
    pub async fn update_gate(
        &self,
        registry: Pubkey,
        room: Pubkey,
        gate: crate::gate::NewGate,
    ) -> Result<Signature, ChainError> {
        self.send(
            roomcast::accounts::UpdateGate {
                authority: self.signer.pubkey(),
                registry,
                room,
                mint: gate.mint,
                gate: crate::gate::gate_address(&self.program_id, &room),
            },
            roomcast::instruction::UpdateGate {
                min_amount: gate.min_amount,
            },
        )
        .await
    }

    /// Sends `ixs` signed by this client's signer (and `extra` signers), waiting for confirmation:
    /// the token instructions of the CLI and tests.
    pub async fn send_instructions(
        &self,
        ixs: &[solana_instruction::Instruction],
        extra: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .map_err(ChainError::unreachable)?;
        let mut signers: Vec<&Keypair> = vec![self.signer.as_ref()];
        signers.extend_from_slice(extra);
        let tx = anchor_client::Transaction::new_signed_with_payer(
            ixs,
            Some(&self.signer.pubkey()),
            &signers,
            blockhash,
        );
        let result = match tokio::time::timeout(
            self.confirm_timeout,
            self.rpc.send_and_confirm_transaction(&tx),
        )
        .await
        {
            Ok(result) => result
                .map_err(|e| ChainError::from_client(ClientError::SolanaClientError(Box::new(e)))),
            Err(_) => Err(ChainError::ConfirmationTimeout(self.confirm_timeout)),
        };
        record("send_transaction", result)
    }

    pub async fn registry(&self, address: &Pubkey) -> Result<Option<Registry>, ChainError> {
        self.fetch(address).await
    }

    pub async fn room(&self, address: &Pubkey) -> Result<Option<Room>, ChainError> {
        Ok(self
            .fetch::<roomcast::state::Room>(address)
            .await?
            .map(Room::from))
    }

    pub async fn room_by_session(
        &self,
        registry: &Pubkey,
        session_id: &str,
    ) -> Result<Option<RoomRecord>, ChainError> {
        let address = self.room_address(registry, session_id);
        Ok(self
            .room(&address)
            .await?
            .map(|room| RoomRecord { address, room }))
    }

    /// Rooms matching `filter`, filtered by the node (`getProgramAccounts` + `memcmp`), sorted by
    /// creation time then address.
    pub async fn rooms(&self, filter: &RoomFilter) -> Result<Vec<RoomRecord>, ChainError> {
        let mut filters = Vec::new();
        if let Some(registry) = filter.registry {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
                room_offsets::REGISTRY,
                registry.as_ref(),
            )));
        }
        if let Some(host) = filter.host {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
                room_offsets::HOST,
                host.as_ref(),
            )));
        }
        if let Some(status) = filter.status {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
                room_offsets::STATUS,
                &[status as u8],
            )));
        }
        let mut rooms = self.program_rooms(filters).await?;
        rooms.sort_by_key(|r| (r.room.created_at, r.address));
        Ok(rooms)
    }

    /// Rooms with this session id in any registry: one `getProgramAccounts` with a `memcmp` on
    /// the id's 16 bytes at their fixed offset. Sorted by registry.
    pub async fn rooms_by_session(&self, session_id: &str) -> Result<Vec<RoomRecord>, ChainError> {
        let bytes = parse_session_id(session_id)
            .map_err(|_| ChainError::InvalidInput(format!("not a session id: {session_id:?}")))?;
        let filters = vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
            room_offsets::SESSION_ID,
            &bytes,
        ))];
        let mut found = self.program_rooms(filters).await?;
        found.sort_by_key(|r| (r.room.registry, r.address));
        Ok(found)
    }

    /// The program's room accounts matching `filters` (`getProgramAccounts`), decoded.
    async fn program_rooms(
        &self,
        filters: Vec<RpcFilterType>,
    ) -> Result<Vec<RoomRecord>, ChainError> {
        let found = self
            .program
            .accounts::<roomcast::state::Room>(filters)
            .await
            .map_err(ChainError::from_client);
        Ok(record("get_program_accounts", found)?
            .into_iter()
            .map(|(address, room)| RoomRecord {
                address,
                room: room.into(),
            })
            .collect())
    }

    /// A room and the slot the node answered at (`None`: no such account), for callers that order
    /// what they learn by slot (the API's room index).
    pub async fn room_at(&self, address: &Pubkey) -> Result<(u64, Option<Room>), ChainError> {
        let response = record(
            "get_account_info",
            self.rpc
                .get_account_with_commitment(address, CommitmentConfig::confirmed())
                .await
                .map_err(ChainError::rpc),
        )?;
        // Like [`Self::room`]: an account that is not a room is an error, not "no room".
        let room = match response.value {
            None => None,
            Some(account) if account.owner != self.program_id => {
                return Err(ChainError::AccountNotFound(address.to_string()))
            }
            Some(account) => Some(
                Room::decode(&account.data)
                    .ok_or_else(|| ChainError::AccountNotFound(address.to_string()))?,
            ),
        };
        Ok((response.context.slot, room))
    }

    /// What changes with every write to a room, for every room of `registry`, and the slot it
    /// reflects: one `getProgramAccounts` with a `dataSlice` of 34 bytes per room (status through
    /// `updated_at`) instead of whole accounts — how a catch-up finds what changed.
    pub async fn registry_room_stamps_at(
        &self,
        registry: &Pubkey,
    ) -> Result<(u64, Vec<RoomStamp>), ChainError> {
        let (slot, accounts) = self
            .program_accounts_at(
                "get_program_accounts_sliced",
                registry,
                Some((room_offsets::STATUS, RoomStamp::SLICE_LEN)),
            )
            .await?;
        let stamps = accounts
            .into_iter()
            .filter_map(|(address, data)| RoomStamp::decode(address, &data))
            .collect();
        Ok((slot, stamps))
    }

    /// Rooms by address (`getMultipleAccounts`, 100 a call) and the oldest slot the answers
    /// reflect; `None` for an address with no room.
    pub async fn rooms_at(
        &self,
        addresses: &[Pubkey],
    ) -> Result<(u64, Vec<(Pubkey, Option<Room>)>), ChainError> {
        let mut slot = u64::MAX;
        let mut found = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(100) {
            let response = record(
                "get_multiple_accounts",
                self.rpc
                    .get_multiple_accounts_with_commitment(chunk, CommitmentConfig::confirmed())
                    .await
                    .map_err(ChainError::rpc),
            )?;
            slot = slot.min(response.context.slot);
            for (address, account) in chunk.iter().zip(response.value) {
                let room = account
                    .filter(|a| a.owner == self.program_id)
                    .and_then(|a| Room::decode(&a.data));
                found.push((*address, room));
            }
        }
        Ok((if found.is_empty() { 0 } else { slot }, found))
    }

    /// `getProgramAccounts` of this program with `withContext`, `memcmp` on the room's registry,
    /// optionally sliced: the context slot and each account's (sliced) data.
    async fn program_accounts_at(
        &self,
        operation: &'static str,
        registry: &Pubkey,
        slice: Option<(usize, usize)>,
    ) -> Result<(u64, Vec<(Pubkey, Vec<u8>)>), ChainError> {
        use solana_rpc_client_api::request::RpcRequest;
        use solana_rpc_client_api::response::{OptionalContext, RpcKeyedAccount};
        let mut config = serde_json::json!({
            "encoding": "base64",
            "commitment": "confirmed",
            "withContext": true,
            "filters": [{ "memcmp": {
                "offset": room_offsets::REGISTRY,
                "bytes": registry.to_string(),
                "encoding": "base58",
            }}],
        });
        if let Some((offset, length)) = slice {
            config["dataSlice"] = serde_json::json!({ "offset": offset, "length": length });
        }
        let answer = record(
            operation,
            self.rpc
                .send::<OptionalContext<Vec<RpcKeyedAccount>>>(
                    RpcRequest::GetProgramAccounts,
                    serde_json::json!([self.program_id.to_string(), config]),
                )
                .await
                .map_err(ChainError::rpc),
        )?;
        let (slot, keyed) = match answer {
            OptionalContext::Context(response) => (Some(response.context.slot), response.value),
            OptionalContext::NoContext(keyed) => (None, keyed),
        };
        // A node that ignores `withContext`: its current slot is no older than what it listed.
        let slot = match slot {
            Some(slot) => slot,
            None => record(
                "get_slot",
                self.rpc.get_slot().await.map_err(ChainError::rpc),
            )?,
        };
        let mut accounts = Vec::with_capacity(keyed.len());
        for keyed in keyed {
            let address = keyed
                .pubkey
                .parse::<Pubkey>()
                .map_err(|e| ChainError::rpc(format!("getProgramAccounts: bad address: {e}")))?;
            let data = keyed.account.data.decode().ok_or_else(|| {
                ChainError::rpc("getProgramAccounts: account data is not base64".to_string())
            })?;
            accounts.push((address, data));
        }
        Ok((slot, accounts))
    }

    /// Fetches and decodes one program account; `None` if it does not exist.
    async fn fetch<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, ChainError> {
        let response = record(
            "get_account_info",
            self.rpc
                .get_account_with_commitment(address, CommitmentConfig::confirmed())
                .await
                .map_err(ChainError::rpc),
        )?;
        let Some(account) = response.value else {
            return Ok(None);
        };
        if account.owner != self.program_id {
            return Err(ChainError::AccountNotFound(address.to_string()));
        }
        T::try_deserialize(&mut account.data.as_slice())
            .map(Some)
            .map_err(|_| ChainError::AccountNotFound(address.to_string()))
    }

    /// Sends one instruction signed by this client's signer and waits (bounded) for confirmation.
    async fn send(
        &self,
        accounts: impl anchor_lang::ToAccountMetas,
        args: impl anchor_lang::InstructionData,
    ) -> Result<Signature, ChainError> {
        // Probe first: if the node cannot even hand out a blockhash, nothing is sent, and callers
        // know for sure the transaction did not land.
        record(
            "get_latest_blockhash",
            self.rpc
                .get_latest_blockhash()
                .await
                .map_err(ChainError::unreachable),
        )?;
        let request = self.program.request().accounts(accounts).args(args);
        let result = match tokio::time::timeout(self.confirm_timeout, request.send()).await {
            Ok(result) => result.map_err(ChainError::from_client),
            Err(_) => Err(ChainError::ConfirmationTimeout(self.confirm_timeout)),
        };
        record("send_transaction", result)
    }

    /// Direct access to the JSON-RPC client for callers that need more (airdrops in tests).
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }
}

/// Counts one call to the RPC node by operation and outcome (a program error is still an answer).
pub(crate) fn record<T>(
    operation: &'static str,
    result: Result<T, ChainError>,
) -> Result<T, ChainError> {
    let outcome = match &result {
        Ok(_) | Err(ChainError::Program { .. }) => "ok",
        Err(_) => "error",
    };
    metrics::counter!(
        "roomcast_upstream_requests_total",
        "upstream" => "solana_rpc",
        "operation" => operation,
        "outcome" => outcome,
    )
    .increment(1);
    result
}

/// Websocket URL a Solana client would derive (port + 1); unused here but required by anchor-client.
fn ws_url_for(rpc_url: &str) -> String {
    rpc_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1)
}
