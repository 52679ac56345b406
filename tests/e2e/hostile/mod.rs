//! The hostile-client suite (issue 17, part 2): one file per attack, each through the built
//! binary with real sockets (and real Chromium for the pages): event streams (`sse`), shutdown
//! held up by clients (`shutdown`), the Solana Action routes (`actions`), sign-in nonce floods
//! (`nonces`) and the pages' security headers (`pages`).
mod actions;
mod nonces;
mod pages;
mod shutdown;
mod sse;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Api, EVENTUALLY};

/// A loopback source address (127.0.0.n): another client as far as per-address limits go.
pub fn source(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// An HTTP client whose connections come from `source(n)`.
pub fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source(n))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// The sum of the samples of the Prometheus metric `name` whose labels contain every one of
/// `labels` (0 when absent).
pub async fn metric(api: &Api, name: &str, labels: &[&str]) -> f64 {
    let metrics = api.get("/metrics").await;
    metrics.assert_status(200);
    metrics
        .text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// Chain account reads the server made so far (`getAccountInfo`, any outcome), from its metrics.
pub async fn account_reads(api: &Api) -> u64 {
    metric(
        api,
        "roomcast_upstream_requests_total",
        &[
            r#"upstream="solana_rpc""#,
            r#"operation="get_account_info""#,
        ],
    )
    .await as u64
}

/// One Server-Sent Events stream of `GET /api/rooms/{room}/events`, read raw.
pub struct Events {
    pub response: reqwest::Response,
    buffer: String,
    /// Every `retry:` value seen, in milliseconds.
    pub retries: Vec<u64>,
}

impl Events {
    /// Opens the stream; `Err` with the refusal (status, headers, JSON body) if it is not 200.
    pub async fn open(
        client: &reqwest::Client,
        base: &str,
        room: &str,
    ) -> Result<Events, (u16, reqwest::header::HeaderMap, Value)> {
        let response = client
            .get(format!("{base}/api/rooms/{room}/events"))
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap();
            return Err((
                status,
                headers,
                serde_json::from_str(&text).unwrap_or(Value::Null),
            ));
        }
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Ok(Events {
            response,
            buffer: String::new(),
            retries: vec![],
        })
    }

    /// The next `room` event, or `None` when the server ended the stream.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    } else if let Some(r) = line.strip_prefix("retry: ") {
                        self.retries.push(r.trim().parse().unwrap());
                    }
                }
                if name.as_deref() == Some("room") {
                    return Some(serde_json::from_str(&data).unwrap());
                }
                continue;
            }
            let chunk = tokio::time::timeout(EVENTUALLY, self.response.chunk())
                .await
                .expect("an event (or the end of the stream) in time")
                .ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
