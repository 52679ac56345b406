//! The `roomcast` binary end to end: `roomcast localnet` as a child process, then registry and room
//! commands with `-u <url> -k <keypair file>`, their `--json` and human output, and exit codes.
use crate::common;

use common::*;
use roomcast_chain::{RoomcastChain, Signer};
use serde_json::{json, Value};

const INGEST: &str = "rtmps://live.cloudflare.com:443/live/";

fn outcome(action: &str, address: &str, run: &Run) -> String {
    let v = run.json();
    assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
    assert_eq!(v["action"], action);
    assert_eq!(v["address"], address);
    let sig = v["signature"].as_str().unwrap().to_string();
    assert_eq!(bs58::decode(&sig).into_vec().unwrap().len(), 64);
    sig
}

struct Setup {
    node: Localnet,
    _scratch: Scratch,
    admin: Wallet,
    registrar: Wallet,
    registry: String,
}

fn setup(tag: &str) -> Setup {
    let scratch = Scratch::new(tag);
    let node = Localnet::start(&scratch.0, None);
    let admin = node.wallet("admin");
    let registrar = node.wallet("registrar");
    let registry = registry_address(&admin.pubkey()).to_string();
    let run = node.roomcast(&[
        "-k",
        admin.file(),
        "--json",
        "registry",
        "init",
        "--registrar",
        &registrar.key(),
    ]);
    outcome("Initialized registry", &registry, &run);
    Setup {
        node,
        _scratch: scratch,
        admin,
        registrar,
        registry,
    }
}

impl Setup {
    /// `room create` by the registrar, in the admin's registry; returns the room address.
    fn create(&self, session_id: &str, title: &str, host: &str) -> String {
        let run = self.node.roomcast(&[
            "-k",
            self.registrar.file(),
            "--admin",
            &self.admin.key(),
            "--json",
            "room",
            "create",
            "--session-id",
            session_id,
            "--title",
            title,
            "--host",
            host,
        ]);
        let address = room_address(&self.registry.parse().unwrap(), session_id).to_string();
        outcome("Created room", &address, &run);
        address
    }

    fn show(&self, room: &str) -> Value {
        self.node
            .roomcast(&["--admin", &self.admin.key(), "--json", "room", "show", room])
            .json()
    }

    fn list(&self, extra: &[&str]) -> Vec<String> {
        let admin = self.admin.key();
        let mut args = vec!["--admin", admin.as_str(), "--json", "room", "list"];
        args.extend_from_slice(extra);
        let v = self.node.roomcast(&args).json();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn help_lists_the_commands() {
    let run = run_in(&std::env::temp_dir(), &["--help"]);
    let out = run.ok();
    for cmd in ["localnet", "registry", "room", "stream-emulator"] {
        assert!(out.contains(cmd), "{cmd} in {out}");
    }
}

#[test]
fn registry_init_show_and_set_registrar() {
    let s = setup("registry");
    let admin_k = ["-k", s.admin.file()];

    // show --json: exact.
    let shown = s
        .node
        .roomcast(&[&admin_k[..], &["--json", "registry", "show"]].concat())
        .json();
    assert_eq!(
        shown,
        json!({
            "address": s.registry,
            "admin": s.admin.key(),
            "registrar": s.registrar.key(),
            "roomsCreated": 0,
        })
    );
    // Human output, by --registry and by --admin, needs no keypair.
    for by in [
        ["--registry", s.registry.as_str()],
        ["--admin", &s.admin.key()],
    ] {
        let out = s.node.roomcast(&[&by[..], &["registry", "show"]].concat());
        assert_eq!(
            out.ok(),
            format!(
                "Registry       {}\nAdmin          {}\nRegistrar      {}\nRooms created  0\n",
                s.registry,
                s.admin.key(),
                s.registrar.key()
            )
        );
    }

    // A second init of the same registry fails (the account exists).
    let again = s.node.roomcast(
        &[
            &admin_k[..],
            &["registry", "init", "--registrar", &s.registrar.key()],
        ]
        .concat(),
    );
    let message = again.failure();
    assert!(message.contains("AccountAlreadyInUse"), "{message}");

    // set-registrar by the admin.
    let new_registrar = s.node.wallet("registrar2");
    let run = s.node.roomcast(
        &[
            &admin_k[..],
            &["--json", "registry", "set-registrar", &new_registrar.key()],
        ]
        .concat(),
    );
    outcome("Set registrar of", &s.registry, &run);
    let run = s.node.roomcast(
        &[
            &admin_k[..],
            &["registry", "set-registrar", &new_registrar.key()],
        ]
        .concat(),
    );
    let human = run.ok();
    assert!(
        human.starts_with(&format!("Set registrar of {}\nSignature: ", s.registry)),
        "{human}"
    );
    let shown = s
        .node
        .roomcast(&["--registry", &s.registry, "--json", "registry", "show"])
        .json();
    assert_eq!(shown["registrar"], new_registrar.key());

    // set-registrar by someone else: NotAdmin.
    let stranger = s.node.wallet("stranger");
    let run = s.node.roomcast(&[
        "-k",
        stranger.file(),
        "--registry",
        &s.registry,
        "registry",
        "set-registrar",
        &stranger.key(),
    ]);
    assert_eq!(
        run.failure(),
        "program error NotAdmin (6007): Signer is not the registry's admin"
    );

    // An unknown registry.
    let run = s
        .node
        .roomcast(&["-k", stranger.file(), "registry", "show"]);
    assert_eq!(
        run.failure(),
        format!(
            "registry {} not found",
            registry_address(&stranger.pubkey())
        )
    );
}

#[test]
fn room_lifecycle_through_the_cli() {
    let s = setup("rooms");
    let host = s.node.wallet("host");
    let other_host = s.node.wallet("other-host");
    let t0 = now();
    let room1 = s.create(&sid(1), "First room", &host.key());
    let t1 = now();
    let room2 = s.create(&sid(2), "Second room", &other_host.key());
    let room3 = s.create(&sid(3), "Third room", &host.key());

    // show by address and by session id: the same exact view.
    let by_address = s.show(&room1);
    let created_at = by_address["createdAt"].as_i64().unwrap();
    assert!(
        (t0..=t1).contains(&created_at),
        "{t0} <= {created_at} <= {t1}"
    );
    assert_eq!(
        by_address,
        json!({
            "address": room1,
            "registry": s.registry,
            "sessionId": sid(1),
            "host": host.key(),
            "payer": s.registrar.key(),
            "title": "First room",
            "ingestUrl": INGEST,
            "status": "created",
            "createdAt": created_at,
            "updatedAt": created_at,
            "liveAt": null,
            "endedAt": null,
        })
    );
    assert_eq!(s.show(&sid(1)), by_address);
    // Human show.
    let human = s
        .node
        .roomcast(&["--admin", &s.admin.key(), "room", "show", &sid(1)]);
    let human = human.ok();
    assert!(
        human.starts_with(&format!("Room         {room1}\n")),
        "{human}"
    );
    assert!(human.contains("Status       created\n"), "{human}");
    assert!(human.contains("Live at      -\n"), "{human}");
    assert!(human.contains("Title        First room\n"), "{human}");

    // Room 2 goes live (the registrar's backend does that; there is no CLI command for it).
    let registrar = RoomcastChain::new(
        &s.node.url,
        s.registrar.keypair.insecure_clone(),
        roomcast_chain::PROGRAM_ID,
    )
    .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(registrar.set_live(s.registry.parse().unwrap(), room2.parse().unwrap()))
        .unwrap();

    // list and its filters (sorted by creation time, then address).
    let mut all = s.list(&[]);
    let mut expected = vec![room1.clone(), room2.clone(), room3.clone()];
    all.sort();
    expected.sort();
    assert_eq!(all, expected);
    let mut created = s.list(&["--status", "created"]);
    created.sort();
    let mut expected_created = vec![room1.clone(), room3.clone()];
    expected_created.sort();
    assert_eq!(created, expected_created);
    assert_eq!(s.list(&["--status", "live"]), vec![room2.clone()]);
    assert_eq!(s.list(&["--status", "ended"]), Vec::<String>::new());
    assert_eq!(s.list(&["--host", &other_host.key()]), vec![room2.clone()]);
    assert_eq!(
        s.list(&["--host", &other_host.key(), "--status", "created"]),
        Vec::<String>::new()
    );
    // Human list.
    let human = s.node.roomcast(&[
        "--admin",
        &s.admin.key(),
        "room",
        "list",
        "--status",
        "live",
    ]);
    let human = human.ok();
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(lines.len(), 3, "{human}");
    assert!(lines[0].starts_with("ROOM "), "{human}");
    assert!(lines[1].starts_with(&room2), "{human}");
    assert!(
        lines[1].contains(&sid(2))
            && lines[1].contains(" live ")
            && lines[1].ends_with("Second room")
    );
    assert_eq!(lines[2], "1 room(s)");
    // Without --admin/--registry: every registry's rooms.
    let everywhere = s.node.roomcast(&["--json", "room", "list"]).json();
    assert_eq!(everywhere.as_array().unwrap().len(), 3);

    // update by the host (a wallet, its own keypair).
    let run = s.node.roomcast(&[
        "-k",
        host.file(),
        "--admin",
        &s.admin.key(),
        "--json",
        "room",
        "update",
        &sid(1),
        "--title",
        "Renamed",
    ]);
    outcome("Updated room", &room1, &run);
    assert_eq!(s.show(&room1)["title"], "Renamed");

    // A stranger may not end it: the program's error is named.
    let stranger = s.node.wallet("stranger");
    let run = s.node.roomcast(&[
        "-k",
        stranger.file(),
        "--admin",
        &s.admin.key(),
        "room",
        "end",
        &room1,
    ]);
    assert_eq!(
        run.failure(),
        "program error NotHostOrRegistrar (6006): Signer is neither the room's host nor the registry's registrar"
    );
    assert_eq!(s.show(&room1)["status"], "created");

    // The host ends their own room with their own keypair.
    let run = s.node.roomcast(&[
        "-k",
        host.file(),
        "--admin",
        &s.admin.key(),
        "--json",
        "room",
        "end",
        &room1,
    ]);
    outcome("Ended room", &room1, &run);
    let ended = s.show(&room1);
    assert_eq!(ended["status"], "ended");
    assert!(ended["endedAt"].as_i64().unwrap() >= created_at);
    assert_eq!(s.list(&["--status", "ended"]), vec![room1.clone()]);

    // Ending or renaming again: RoomEnded.
    let run = s.node.roomcast(&[
        "-k",
        host.file(),
        "--admin",
        &s.admin.key(),
        "room",
        "update",
        &room1,
        "--title",
        "Too late",
    ]);
    assert_eq!(
        run.failure(),
        "program error RoomEnded (6009): Room has ended"
    );
    // Closing a room that has not ended: RoomNotEnded.
    let run = s.node.roomcast(&[
        "-k",
        s.registrar.file(),
        "--admin",
        &s.admin.key(),
        "room",
        "close",
        &room3,
    ]);
    assert_eq!(
        run.failure(),
        "program error RoomNotEnded (6011): Room is not ended"
    );

    // close by the host returns the rent to the payer (the registrar).
    let before = s.node.balance(&s.registrar.pubkey());
    let run = s.node.roomcast(&[
        "-k",
        host.file(),
        "--admin",
        &s.admin.key(),
        "room",
        "close",
        &room1,
    ]);
    let human = run.ok();
    assert!(
        human.starts_with(&format!("Closed room {room1}\nSignature: ")),
        "{human}"
    );
    assert!(s.node.balance(&s.registrar.pubkey()) > before);
    let run = s
        .node
        .roomcast(&["--admin", &s.admin.key(), "room", "show", &room1]);
    assert_eq!(run.failure(), format!("room {room1} not found"));
    let run = s
        .node
        .roomcast(&["--admin", &s.admin.key(), "room", "show", &sid(1)]);
    assert_eq!(run.failure(), format!("room {} not found", sid(1)));
    let mut left = s.list(&[]);
    left.sort();
    let mut expected_left = vec![room2.clone(), room3.clone()];
    expected_left.sort();
    assert_eq!(left, expected_left);
}

#[test]
fn room_errors_and_usage() {
    let s = setup("errors");
    // An unknown room by session id and by address.
    let run = s
        .node
        .roomcast(&["--admin", &s.admin.key(), "room", "show", &sid(99)]);
    assert_eq!(run.failure(), format!("room {} not found", sid(99)));
    let nowhere = room_address(&s.registry.parse().unwrap(), &sid(98)).to_string();
    let run = s.node.roomcast(&["room", "show", &nowhere]);
    assert_eq!(run.failure(), format!("room {nowhere} not found"));
    // Neither an address nor a session id.
    let run = s.node.roomcast(&["room", "show", "not-a-room"]);
    assert_eq!(
        run.failure(),
        "\"not-a-room\" is neither a room address nor a session id (32 lowercase hex)"
    );
    // Without --admin/--registry a session id is looked up in every registry.
    let run = s.node.roomcast(&["room", "show", &sid(99)]);
    assert_eq!(
        run.failure(),
        format!("room {} not found in any registry", sid(99))
    );
    // The program validates input: a bad session id.
    let run = s.node.roomcast(&[
        "-k",
        s.registrar.file(),
        "--admin",
        &s.admin.key(),
        "room",
        "create",
        "--session-id",
        &sid(5),
        "--title",
        "",
        "--host",
        &s.admin.key(),
    ]);
    assert_eq!(
        run.failure(),
        "program error TitleEmpty (6003): Title must not be empty"
    );
    // Creating by someone who is not the registrar.
    let run = s.node.roomcast(&[
        "-k",
        s.admin.file(),
        "room",
        "create",
        "--session-id",
        &sid(5),
        "--title",
        "x",
        "--host",
        &s.admin.key(),
    ]);
    assert_eq!(
        run.failure(),
        "program error NotRegistrar (6005): Signer is not the registry's registrar"
    );

    // clap usage errors: exit 2 with a message.
    for (args, needle) in [
        (
            vec!["room", "list", "--status", "paused"],
            "invalid value 'paused' for '--status <STATUS>'",
        ),
        (
            vec!["room", "create", "--title", "x"],
            "the following required arguments were not provided",
        ),
        (
            vec![
                "room",
                "create",
                "--session-id",
                "a",
                "--title",
                "x",
                "--host",
                "nope",
            ],
            "invalid value 'nope' for '--host <HOST>'",
        ),
        (vec!["registry"], "Usage: roomcast registry"),
    ] {
        let run = s.node.roomcast(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn missing_keypair_is_a_clear_error() {
    let scratch = Scratch::new("nokey");
    let node = Localnet::start(&scratch.0, None);
    let missing = scratch.path("absent.json");
    let missing = missing.to_str().unwrap();
    let run = node.roomcast(&[
        "-k",
        missing,
        "registry",
        "init",
        "--registrar",
        &node.wallet("r").key(),
    ]);
    assert_eq!(
        run.failure(),
        format!("no usable keypair at {missing} (pass --keypair FILE): cannot read keypair {missing}: No such file or directory (os error 2)")
    );
    // No -k: the Solana CLI default under $HOME.
    let run = node.roomcast(&["registry", "set-registrar", &node.wallet("r2").key()]);
    let default = scratch.path(".config/solana/id.json");
    let default = default.to_str().unwrap();
    assert!(
        run.failure().starts_with(&format!(
            "no usable keypair at {default} (pass --keypair FILE)"
        )),
        "{}",
        run.stderr
    );
    // Not a keypair file.
    let junk = scratch.path("junk.json");
    std::fs::write(&junk, "[1,2,3]").unwrap();
    let junk = junk.to_str().unwrap();
    let run = node.roomcast(&[
        "-k",
        junk,
        "registry",
        "init",
        "--registrar",
        &node.wallet("r3").key(),
    ]);
    assert_eq!(
        run.failure(),
        format!("no usable keypair at {junk} (pass --keypair FILE): {junk} is not a valid ed25519 keypair")
    );
}

#[test]
fn bad_and_unreachable_urls() {
    let scratch = Scratch::new("url");
    let run = run_in(&scratch.0, &["-u", "ftp://example.com", "room", "list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'ftp://example.com' for '--url <URL>': invalid cluster \"ftp://example.com\": use localnet, devnet, testnet, mainnet-beta or an http(s) URL"),
        "{}",
        run.stderr
    );
    // A well-formed URL where nothing listens: exit 1 naming the RPC failure.
    // A port held by a bound socket that never listens: connections are refused, and no other
    // process can start listening there meanwhile (picking a port and releasing it could).
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let run = run_in(
        &scratch.0,
        &["-u", &format!("http://127.0.0.1:{port}"), "room", "list"],
    );
    let message = run.failure();
    assert!(message.starts_with("rpc error: "), "{message}");
}

#[test]
fn localnet_state_survives_a_restart() {
    let scratch = Scratch::new("state");
    let state = scratch.path("ledger/state.json");
    let node = Localnet::start(&scratch.0, Some(&state));
    let admin = node.wallet("admin");
    let host = node.wallet("host");
    let run = node.roomcast(&[
        "-k",
        admin.file(),
        "registry",
        "init",
        "--registrar",
        &admin.key(),
    ]);
    run.ok();
    let run = node.roomcast(&[
        "-k",
        admin.file(),
        "--json",
        "room",
        "create",
        "--session-id",
        &sid(7),
        "--title",
        "Kept",
        "--host",
        &host.key(),
    ]);
    run.json();
    let before = node
        .roomcast(&["--admin", &admin.key(), "--json", "room", "show", &sid(7)])
        .json();
    let balance = node.balance(&admin.pubkey());
    let status = node.stop_with(libc::SIGTERM);
    assert!(status.success(), "{status:?}");
    assert!(state.exists());

    let node = Localnet::start(&scratch.0, Some(&state));
    let after = node
        .roomcast(&["--admin", &admin.key(), "--json", "room", "show", &sid(7)])
        .json();
    assert_eq!(after, before);
    assert_eq!(node.balance(&admin.pubkey()), balance);
    // The restarted node keeps working on that state: the host ends the room.
    node.roomcast(&[
        "-k",
        host.file(),
        "--admin",
        &admin.key(),
        "room",
        "end",
        &sid(7),
    ])
    .ok();
    let status = node.stop_with(libc::SIGINT);
    assert!(status.success(), "{status:?}");

    let node = Localnet::start(&scratch.0, Some(&state));
    let shown = node
        .roomcast(&["--admin", &admin.key(), "--json", "room", "show", &sid(7)])
        .json();
    assert_eq!(shown["status"], "ended");
    assert_eq!(shown["title"], "Kept");
    assert_eq!(node.balance(&host.pubkey()), 10 * SOL - 5_000);
}

#[test]
fn session_ids_resolve_across_registries_without_a_keypair() {
    let s = setup("across");
    let host = s.node.wallet("host");
    let room = s.create(&sid(1), "Findable", &host.key());

    // No keypair, no --admin: found by its session id alone, shown with RFC 3339 times.
    let shown = s.node.roomcast(&["--json", "room", "show", &sid(1)]).json();
    assert_eq!(shown["address"], room);
    assert_eq!(shown["registry"], s.registry);
    let created_at = shown["createdAt"].as_i64().unwrap();
    let human = s.node.roomcast(&["room", "show", &sid(1)]);
    let human = human.ok();
    let expected = time::OffsetDateTime::from_unix_timestamp(created_at)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(expected.ends_with('Z'), "{expected}");
    assert!(
        human.contains(&format!("Created at   {expected}\n")),
        "{human}"
    );
    assert!(
        human.contains(&format!("Updated at   {expected}\n")),
        "{human}"
    );
    assert!(human.contains("Ended at     -\n"), "{human}");

    // The host ends their room by session id with only their own keypair (not the registry's).
    let run = s
        .node
        .roomcast(&["-k", host.file(), "--json", "room", "end", &sid(1)]);
    outcome("Ended room", &room, &run);
    let ended = s.node.roomcast(&["--json", "room", "show", &sid(1)]).json();
    assert_eq!(ended["status"], "ended");
    let ended_at = ended["endedAt"].as_i64().unwrap();
    let human = s.node.roomcast(&["room", "show", &room]);
    let when = time::OffsetDateTime::from_unix_timestamp(ended_at)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(human.ok().contains(&format!("Ended at     {when}\n")));

    // The same session id in a second registry: ambiguous, and the error names both registries.
    let admin2 = s.node.wallet("admin2");
    let registry2 = registry_address(&admin2.pubkey()).to_string();
    s.node
        .roomcast(&[
            "-k",
            admin2.file(),
            "registry",
            "init",
            "--registrar",
            &admin2.key(),
        ])
        .ok();
    s.node
        .roomcast(&[
            "-k",
            admin2.file(),
            "room",
            "create",
            "--session-id",
            &sid(1),
            "--title",
            "Twin",
            "--host",
            &host.key(),
        ])
        .ok();
    let mut both = [s.registry.clone(), registry2.clone()];
    both.sort_by_key(|r| r.parse::<roomcast_chain::Pubkey>().unwrap());
    let run = s.node.roomcast(&["room", "show", &sid(1)]);
    assert_eq!(
        run.failure(),
        format!(
            "session id {} names rooms in 2 registries ({}, {}): pass --registry ADDRESS",
            sid(1),
            both[0],
            both[1]
        )
    );
    // Naming the registry picks one.
    let twin = s
        .node
        .roomcast(&["--registry", &registry2, "--json", "room", "show", &sid(1)])
        .json();
    assert_eq!(twin["title"], "Twin");
    assert_eq!(
        twin["address"],
        room_address(&registry2.parse().unwrap(), &sid(1)).to_string()
    );
}

#[test]
fn keygen_and_airdrop_for_newcomers() {
    let scratch = Scratch::new("keygen");
    let node = Localnet::start(&scratch.0, None);
    // Default path: the Solana CLI's (HOME is the scratch dir here), mode 0600.
    let made = node.roomcast(&["--json", "keygen"]).json();
    let path = scratch.path(".config/solana/id.json");
    assert_eq!(made["path"], path.to_str().unwrap());
    let keypair = roomcast_localnet::keypair_file::read(&path).unwrap();
    assert_eq!(made["pubkey"], keypair.pubkey().to_string());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Never overwritten by accident.
    let run = node.roomcast(&["keygen"]);
    assert_eq!(
        run.failure(),
        format!(
            "{} already exists (pass --force to overwrite it)",
            path.display()
        )
    );
    let other = scratch.path("host.json");
    let human = node.roomcast(&["keygen", "-o", other.to_str().unwrap()]);
    let host = roomcast_localnet::keypair_file::read(&other).unwrap();
    assert_eq!(
        human.ok(),
        format!(
            "Wrote new keypair to {}\nPubkey: {}\n",
            other.display(),
            host.pubkey()
        )
    );

    // airdrop: to the default keypair, then to a named recipient, amounts exact.
    let dropped = node.roomcast(&["--json", "airdrop", "2.5"]).json();
    assert_eq!(dropped["recipient"], keypair.pubkey().to_string());
    assert_eq!(dropped["lamports"], 2_500_000_000u64);
    assert_eq!(dropped["balance"], 2_500_000_000u64);
    assert_eq!(node.balance(&keypair.pubkey()), 2_500_000_000);
    let status = node.rpc("getSignatureStatuses", json!([[dropped["signature"]]]));
    assert_eq!(status["result"]["value"][0]["err"], Value::Null, "{status}");
    let human = node.roomcast(&["airdrop", "1", &host.pubkey().to_string()]);
    let human = human.ok();
    assert!(
        human.starts_with(&format!(
            "Airdropped 1 SOL to {}\nBalance: 1 SOL\nSignature: ",
            host.pubkey()
        )),
        "{human}"
    );
    assert_eq!(node.balance(&host.pubkey()), 1_000_000_000);
    let run = node.roomcast(&["airdrop", "-1"]);
    assert!(run.code != 0);
    let run = node.roomcast(&["airdrop", "0"]);
    assert_eq!(
        run.failure(),
        "invalid amount \"0\": a positive number of SOL, e.g. 1 or 0.5"
    );
}

/// Issue 22: `roomcast room tip ROOM AMOUNT` pays the host from the keypair, as a tip the server
/// counts (room as reference, memo), and refuses what the Action refuses.
#[test]
fn room_tip_pays_the_host_from_the_keypair() {
    let s = setup("tip");
    let host = s.node.wallet("host");
    let fan = s.node.wallet("fan");
    let room = s.create(&sid(1), "Tippable", &host.key());
    let before = s.node.balance(&host.pubkey());
    let run = s.node.roomcast(&[
        "-k",
        fan.file(),
        "--admin",
        &s.admin.key(),
        "--json",
        "room",
        "tip",
        &sid(1),
        "0.25",
    ]);
    let signature = outcome("Tipped room", &room, &run);
    assert_eq!(s.node.balance(&host.pubkey()), before + SOL / 4);
    assert_eq!(s.node.balance(&fan.pubkey()), 10 * SOL - SOL / 4 - 5_000);
    // Found by the room's address with the tip memo, and read back as a tip.
    let listed = s
        .node
        .rpc("getSignaturesForAddress", json!([room, {"limit": 1}]));
    assert_eq!(listed["result"][0]["signature"], signature);
    let memo = format!("roomcast tip {room}");
    assert_eq!(
        listed["result"][0]["memo"],
        format!("[{}] {memo}", memo.len())
    );
    let human = s
        .node
        .roomcast(&["-k", fan.file(), "room", "tip", &room, "0.000000001"]);
    assert!(
        human
            .ok()
            .starts_with(&format!("Tipped room {room}\nSignature: ")),
        "{}",
        human.stdout
    );
    assert_eq!(s.node.balance(&host.pubkey()), before + SOL / 4 + 1);

    // Refusals.
    for bad in ["0", "abc", "1e3", "0.0000000001"] {
        let run = s
            .node
            .roomcast(&["-k", fan.file(), "room", "tip", &room, bad]);
        assert_eq!(
            run.failure(),
            format!("amount must be a positive number of SOL (at most 9 decimals), not {bad:?}")
        );
    }
    let run = s
        .node
        .roomcast(&["-k", host.file(), "room", "tip", &room, "0.1"]);
    assert_eq!(run.failure(), "the host cannot tip their own room");
    let poor = roomcast_chain::Keypair::new();
    let poor_file = s._scratch.0.join("poor.json");
    roomcast_localnet::keypair_file::write(&poor_file, &poor).unwrap();
    let run = s.node.roomcast(&[
        "-k",
        poor_file.to_str().unwrap(),
        "room",
        "tip",
        &room,
        "0.1",
    ]);
    assert_ne!(run.code, 0);
    s.node
        .roomcast(&["-k", host.file(), "room", "end", &room])
        .ok();
    let run = s
        .node
        .roomcast(&["-k", fan.file(), "room", "tip", &room, "0.1"]);
    assert_eq!(run.failure(), format!("room {room} has ended"));
}
