//! Certificates for TLS to Redis (openssl CLI) and a `redis-server` that only speaks TLS, wants a
//! client certificate, and has the README's least-privilege ACL user (issue 24).
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

use roomcast_api::core::config::RedisMode;
use roomcast_api::store::redis::preflight::acl_rules;

use super::scratch_dir;

pub const ADMIN_PASSWORD: &str = "admin-pw-for-tests";
pub const ROOMCAST_PASSWORD: &str = "roomcast-pw-for-tests";

// ---------------------------------------------------------------------------------------------
// Certificates (openssl CLI): a CA, a server certificate for 127.0.0.1 only, a client
// certificate, and a second CA nothing is signed by.

pub struct Pki {
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    pub fn new() -> Pki {
        let dir = scratch_dir("redis-pki");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            let (key, crt, subj) = (
                format!("{ca}.key"),
                format!("{ca}.crt"),
                format!("/CN={ca}"),
            );
            args.extend([
                "-keyout",
                &key,
                "-out",
                &crt,
                "-days",
                "2",
                "-subj",
                &subj,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            openssl(&dir, &args);
        }
        for (leaf, san) in [
            ("server", "IP:127.0.0.1"),
            ("elsewhere", "DNS:elsewhere.test"),
            ("client", "DNS:roomcast"),
        ] {
            let (key, csr, crt, ext, subj) = (
                format!("{leaf}.key"),
                format!("{leaf}.csr"),
                format!("{leaf}.crt"),
                format!("{leaf}.ext"),
                format!("/CN={leaf}"),
            );
            std::fs::write(
                dir.join(&ext),
                format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n"),
            )
            .unwrap();
            let mut args = vec!["req"];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
            openssl(&dir, &args);
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &crt,
                    "-days",
                    "2",
                    "-extfile",
                    &ext,
                ],
            );
        }
        Pki { dir }
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.join(file).to_str().unwrap().to_string()
    }
}

/// How a secure `RedisProc` runs and is reached.
#[derive(Clone)]
pub struct Secure {
    pub pki: std::sync::Arc<Pki>,
    pub server_args: Vec<String>,
    /// `redis-cli` as the admin over TLS.
    pub cli_args: Vec<String>,
}

impl Secure {
    pub fn new() -> Secure {
        let pki = Pki::new();
        let mut server_args: Vec<String> = vec![
            "--tls-cert-file".into(),
            pki.path("server.crt"),
            "--tls-key-file".into(),
            pki.path("server.key"),
            "--tls-ca-cert-file".into(),
            pki.path("ca.crt"),
            "--tls-auth-clients".into(),
            "yes".into(),
        ];
        server_args.extend(
            format!("--user default on >{ADMIN_PASSWORD} ~* &* +@all --user roomcast on >{ROOMCAST_PASSWORD} {}", acl_rules(RedisMode::Single))
                .split(' ')
                .map(str::to_string),
        );
        let cli_args = vec![
            "--tls".into(),
            "--cacert".into(),
            pki.path("ca.crt"),
            "--cert".into(),
            pki.path("client.crt"),
            "--key".into(),
            pki.path("client.key"),
            "--no-auth-warning".into(),
            "-a".into(),
            ADMIN_PASSWORD.into(),
        ];
        Secure {
            pki: std::sync::Arc::new(pki),
            server_args,
            cli_args,
        }
    }

    pub fn url(&self, port: u16) -> String {
        format!("rediss://roomcast:{ROOMCAST_PASSWORD}@127.0.0.1:{port}/0")
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ROOMCAST_REDIS_CA_FILE", self.pki.path("ca.crt")),
            ("ROOMCAST_REDIS_CLIENT_CERT", self.pki.path("client.crt")),
            ("ROOMCAST_REDIS_CLIENT_KEY", self.pki.path("client.key")),
        ]
    }
}
